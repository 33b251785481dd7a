package db

import (
	"context"
	"database/sql"
	"fmt"
)

// MessageTemplates returns the templates edited in the console, by variant.
// Variants never edited, or reset to the default, are absent: the caller's
// defaults apply to them.
func (s *Store) MessageTemplates(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Variant string `db:"variant"`
		Body    string `db:"body"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT variant, body FROM message_templates WHERE body IS NOT NULL`); err != nil {
		return nil, fmt.Errorf("store: message templates: %w", classify(err))
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Variant] = r.Body
	}
	return out, nil
}

// MessageTemplateVersions returns the version of each variant's template:
// every save and every reset adds one, so a version names one text. A
// variant never edited is absent (version 0: the configured default).
func (s *Store) MessageTemplateVersions(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Variant string `db:"variant"`
		Version int    `db:"version"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT variant, version FROM message_templates`); err != nil {
		return nil, fmt.Errorf("store: message template versions: %w", classify(err))
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Variant] = r.Version
	}
	return out, nil
}

// SaveMessageTemplate stores the template of variant, replacing any earlier
// edit, with an audit row holding the text before (nil: the default was in
// force) and after. The caller validates body; the table only bounds its
// length.
func (s *Store) SaveMessageTemplate(ctx context.Context, variant, body string) error {
	return s.changeTemplate(ctx, variant, &body)
}

// ResetMessageTemplate forgets the edit of variant, so the configured
// default applies again. The row stays, its body NULL and its version one
// more, so the version numbers of a variant never repeat.
func (s *Store) ResetMessageTemplate(ctx context.Context, variant string) error {
	return s.changeTemplate(ctx, variant, nil)
}

// changeTemplate saves (body set) or resets (nil) one variant's template
// and writes its audit row in the same transaction. The old text is read
// under the row's lock; a variant never edited has no row to lock, and two
// first edits racing both record "before: default", which is true of each.
func (s *Store) changeTemplate(ctx context.Context, variant string, body *string) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: message template %q: %w", variant, classify(err))
	}
	defer tx.Rollback()
	var before []sql.NullString
	if err := tx.SelectContext(ctx, &before, `SELECT body FROM message_templates WHERE variant = $1 FOR UPDATE`, variant); err != nil {
		return fmt.Errorf("store: message template %q: %w", variant, classify(err))
	}
	wasDefault := len(before) == 0 || !before[0].Valid
	if body == nil && wasDefault {
		return nil // a reset of what is already the default changes nothing: no audit row
	}
	action := AuditTemplateEdited
	if body != nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO message_templates (variant, body) VALUES ($1, $2)
			ON CONFLICT (variant) DO UPDATE SET body = EXCLUDED.body, version = message_templates.version + 1, updated_at = now()`, variant, *body)
	} else {
		action = AuditTemplateReset
		// The row stays, its body NULL and its version one more, so the
		// version numbers of a variant never repeat.
		_, err = tx.ExecContext(ctx, `UPDATE message_templates SET body = NULL, version = version + 1, updated_at = now()
			WHERE variant = $1 AND body IS NOT NULL`, variant)
	}
	if err != nil {
		return fmt.Errorf("store: message template %q: %w", variant, classify(err))
	}
	old := map[string]any{"body": nil} // nil: the configured default
	if !wasDefault {
		old["body"] = before[0].String
	}
	if err := s.audit(ctx, tx, action, "template", variant, old, map[string]any{"body": body}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: message template %q: %w", variant, classify(err))
	}
	return nil
}
