// Package podman is reehub's client of a Podman API service (podman system
// service, 4.3.1 on Debian 12) through the v5 Go bindings.
//
// It builds images without leaking build secrets (the context tar is made
// here, not by the bindings), exports and loads archives, lists the files of
// an image, manages build networks and removes everything a job left behind,
// including buildah working containers of an interrupted build. Each method
// derives its call context from the connection, so cancelling the caller's
// context aborts the request. Errors wrap fault.ErrNotFound and
// fault.ErrUnavailable where the caller can act on the kind.
package podman
