package postgres

// InTx exposes inTx to the external tests (tx_retry_test.go).
var InTx = inTx
