package migrations

// NewFromFS is newFromFS for the tests in package migrations_test.
var NewFromFS = newFromFS
