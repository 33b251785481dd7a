package db

// ResultsByVersionFromSends is the aggregate over the sends that
// CampaignResultsByVersion ran for every window before the version rollups
// (and still runs for a window ending in the past): the benchmark times it
// beside the rollups.
const ResultsByVersionFromSends = resultsByVersionFromSends
