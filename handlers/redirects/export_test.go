package redirects

// PendingStripes lets the external tests state the memory bound.
const PendingStripes = pendingStripes
