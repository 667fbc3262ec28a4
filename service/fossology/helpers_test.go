package fossology_test

import "os"

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "fossology-test-") }
