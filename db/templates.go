package db

import (
	"context"
	"fmt"
)

// MessageTemplates returns the templates edited in the console, by variant.
// Variants never edited are absent: the caller's defaults apply to them.
func (s *Store) MessageTemplates(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Variant string `db:"variant"`
		Body    string `db:"body"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT variant, body FROM message_templates`); err != nil {
		return nil, fmt.Errorf("store: message templates: %w", classify(err))
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Variant] = r.Body
	}
	return out, nil
}

// SaveMessageTemplate stores the template of variant, replacing any earlier
// edit. The caller validates body; the table only bounds its length.
func (s *Store) SaveMessageTemplate(ctx context.Context, variant, body string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO message_templates (variant, body) VALUES ($1, $2)
		ON CONFLICT (variant) DO UPDATE SET body = EXCLUDED.body, updated_at = now()`, variant, body)
	if err != nil {
		return fmt.Errorf("store: save message template %q: %w", variant, classify(err))
	}
	return nil
}

// ResetMessageTemplate forgets the edit of variant, so the configured
// default applies again.
func (s *Store) ResetMessageTemplate(ctx context.Context, variant string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM message_templates WHERE variant = $1`, variant); err != nil {
		return fmt.Errorf("store: reset message template %q: %w", variant, classify(err))
	}
	return nil
}
