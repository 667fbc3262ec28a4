module example.com/hello

go 1.19

require (
	github.com/google/uuid v1.3.0
	github.com/pkg/errors v0.9.1
)
