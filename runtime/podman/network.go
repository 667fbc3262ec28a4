package podman

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/podman/v5/pkg/bindings/network"
)

// Network is a Podman network.
type Network struct {
	// Name is the network's name.
	Name string
	// Gateway is the address of the host on the network. It is known as soon
	// as the network exists, before any container attaches, but the bridge
	// only carries it while a container is attached (bind with IP_FREEBIND).
	Gateway string
}

// CreateNetwork creates a bridge network with the given name and labels. An
// internal network has no route out: its containers reach only the gateway.
func (r *Runtime) CreateNetwork(ctx context.Context, name string, internal bool, labels map[string]string) (Network, error) {
	// The service picks a free subnet per create; the re-create below would let
	// a concurrent create take the same subnet in between, so creates of this
	// runtime are serialised, and a clash with another client is retried.
	r.netMu.Lock()
	defer r.netMu.Unlock()
	var lastErr error
	for range 5 {
		n, err := r.createNetwork(ctx, name, internal, labels)
		if err == nil || !strings.Contains(err.Error(), "already used") {
			return n, err
		}
		lastErr = err
		// The name is taken: a network of the same name is a leftover of an
		// earlier attempt of the same job (names are the job's), which an
		// attempt interrupted by a kill left behind (on another host whose
		// Podman shares this one's network configuration, or here before the
		// clean-up ran). It is removed and created again.
		if strings.Contains(err.Error(), "network name "+name+" already used") {
			if rerr := r.RemoveNetwork(ctx, name); rerr != nil {
				return Network{}, fmt.Errorf("remove the leftover network %s: %w", name, rerr)
			}
		}
	}
	return Network{}, lastErr
}

func (r *Runtime) createNetwork(ctx context.Context, name string, internal bool, labels map[string]string) (Network, error) {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	spec := nettypes.Network{Name: name, Driver: "bridge", Internal: internal, Labels: labels}
	n, err := network.Create(c, &spec)
	if err != nil {
		return Network{}, r.wrap("create network "+name, err)
	}
	if gw := gateway(n.Subnets); gw != "" {
		return Network{Name: n.Name, Gateway: gw}, nil
	}
	if len(n.Subnets) == 0 {
		_ = r.RemoveNetwork(ctx, name)
		return Network{}, fmt.Errorf("create network %s: the service assigned no subnet", name)
	}
	// Measured on 4.3.1: an internal network created through the REST API
	// gets a free subnet but no gateway, and the first container then takes
	// the first address. Create it again on the same subnet with that address
	// as the gateway, so that the gateway is the host's end of the bridge.
	sub := n.Subnets[0].Subnet
	gw := make(net.IP, len(sub.IP))
	copy(gw, sub.IP)
	gw[len(gw)-1]++
	if err := r.RemoveNetwork(ctx, name); err != nil {
		return Network{}, err
	}
	spec.Subnets = []nettypes.Subnet{{Subnet: sub, Gateway: gw}}
	n, err = network.Create(c, &spec)
	if err != nil {
		return Network{}, r.wrap("create network "+name, err)
	}
	if gw := gateway(n.Subnets); gw != "" {
		return Network{Name: n.Name, Gateway: gw}, nil
	}
	_ = r.RemoveNetwork(ctx, name)
	return Network{}, fmt.Errorf("create network %s: the service assigned no gateway", name)
}

// gateway returns the first IPv4 gateway of the subnets, else the first gateway, else "".
func gateway(subnets []nettypes.Subnet) string {
	for _, s := range subnets {
		if s.Gateway != nil && s.Gateway.To4() != nil {
			return s.Gateway.String()
		}
	}
	for _, s := range subnets {
		if s.Gateway != nil {
			return s.Gateway.String()
		}
	}
	return ""
}

// RemoveNetwork removes the network and the containers attached to it. A
// missing network is not an error.
func (r *Runtime) RemoveNetwork(ctx context.Context, name string) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	_, err := network.Remove(c, name, new(network.RemoveOptions).WithForce(true))
	if err != nil && httpCode(err) != http.StatusNotFound {
		return r.wrap("remove network "+name, err)
	}
	return nil
}

// NetworkInfo describes an existing network.
type NetworkInfo struct {
	// Name is the network's name.
	Name string
	// Labels are its labels.
	Labels map[string]string
}

// ListNetworks returns the networks that carry the label key (any value).
func (r *Runtime) ListNetworks(ctx context.Context, labelKey string) ([]NetworkInfo, error) {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	nets, err := network.List(c, new(network.ListOptions).WithFilters(map[string][]string{"label": {labelKey}}))
	if err != nil {
		return nil, r.wrap("list networks", err)
	}
	out := make([]NetworkInfo, 0, len(nets))
	for _, n := range nets {
		out = append(out, NetworkInfo{Name: n.Name, Labels: n.Labels})
	}
	return out, nil
}
