package access

// Permission names one kind of action. API errors and the console's
// "not allowed" page name the permission a request lacked.
type Permission string

// Permissions. Public and SignedIn are not granted by a role: Public routes
// need no identity at all, SignedIn ones any signed-in user or valid key.
const (
	Public   Permission = "public"
	SignedIn Permission = "signed_in"

	LinksRead   Permission = "links.read"
	LinksCreate Permission = "links.create" // outside a campaign preview
	LinksManage Permission = "links.manage" // deactivate, reactivate

	CampaignsRead Permission = "campaigns.read" // preview pages and the preview API
	SendsRead     Permission = "sends.read"
	SendsRecord   Permission = "sends.record"
	SendsVoid     Permission = "sends.void"
	ResultsRead   Permission = "results.read"

	TemplatesRead  Permission = "templates.read"
	TemplatesEdit  Permission = "templates.edit"
	BusinessesRead Permission = "businesses.read"
	BusinessesEdit Permission = "businesses.edit" // create, edit, import

	HealthRead     Permission = "health.read"
	HealthRun      Permission = "health.run" // heal, "check now", replaying click dead letters
	WebhooksRead   Permission = "webhooks.read"
	WebhooksManage Permission = "webhooks.manage"

	KeysOwn     Permission = "keys.own"     // one's own API keys
	KeysManage  Permission = "keys.manage"  // everyone's API keys
	UsersManage Permission = "users.manage" // invite, role, disable, reset
	AuditRead   Permission = "audit.read"
)

var viewer = []Permission{LinksRead, CampaignsRead, SendsRead, ResultsRead, TemplatesRead,
	BusinessesRead, HealthRead, WebhooksRead, KeysOwn}

var marketer = append([]Permission{SendsRecord, SendsVoid, TemplatesEdit, BusinessesEdit}, viewer...)

var admin = append([]Permission{LinksCreate, LinksManage, HealthRun, WebhooksManage, KeysManage,
	UsersManage, AuditRead}, marketer...)

// grants is what each role may do, built once from the lists above.
var grants = map[string]map[Permission]bool{
	RoleAdmin:    set(admin),
	RoleMarketer: set(marketer),
	RoleViewer:   set(viewer),
}

func set(ps []Permission) map[Permission]bool {
	m := make(map[Permission]bool, len(ps))
	for _, p := range ps {
		m[p] = true
	}
	return m
}

// Allows reports whether role may take actions needing p. Public and
// SignedIn are allowed to every role; an unknown role is allowed nothing.
func Allows(role string, p Permission) bool {
	if _, ok := grants[role]; !ok {
		return false
	}
	return p == Public || p == SignedIn || grants[role][p]
}

// Known reports whether p is a permission this package defines, so a rule
// table cannot name one that no role could ever hold by a typo.
func Known(p Permission) bool { return p == Public || p == SignedIn || grants[RoleAdmin][p] }

// All lists every permission a role can hold.
func All() []Permission { return admin }
