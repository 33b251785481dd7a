package localpg

// TestDatabaseEnv names the environment variable holding the URL of the
// PostgreSQL server tests run against: cmd/withpg sets it, db/pgtest reads it.
const TestDatabaseEnv = "TEST_DATABASE_URL"
