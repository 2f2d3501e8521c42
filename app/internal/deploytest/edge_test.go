package deploytest

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// edgeNetwork is the compose key (and Docker name) of the internal network
// that only nginx, netdata and the app share (docs/operations/index.md,
// "Edge network").
const edgeNetwork = "cs-edge"

// Ensure the app's :8000/:9090 and netdata's :19999 are reachable only from
// the edge network: exactly nginx, netdata and the app join it, nothing of
// this project is on the host-wide shared-net, and every service keeps the
// project's default network (database, internet).
func TestProductionEdgeNetworkMembers(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	n, ok := p.Networks[edgeNetwork]
	if !ok || !bool(n.External) || n.Name != edgeNetwork {
		t.Fatalf("%s must be declared external with name %s (scripts/edge-network.sh creates it): %+v", edgeNetwork, edgeNetwork, n)
	}
	if _, ok := p.Networks["shared-net"]; ok {
		t.Error("shared-net is declared: any container of another project on it could reach what joins it")
	}
	var members []string
	for name, s := range p.Services {
		if _, ok := s.Networks[edgeNetwork]; ok {
			members = append(members, name)
		}
		if _, ok := s.Networks["shared-net"]; ok {
			t.Errorf("%s is on shared-net", name)
		}
		if _, ok := s.Networks["default"]; !ok {
			t.Errorf("%s is not on the project's default network", name)
		}
		for network := range s.Networks {
			if network != "default" && network != edgeNetwork {
				t.Errorf("%s joins %s; only default and %s exist", name, network, edgeNetwork)
			}
		}
	}
	slices.Sort(members)
	if want := []string{"app", "netdata", "nginx"}; !slices.Equal(members, want) {
		t.Errorf("services on %s = %v, want %v", edgeNetwork, members, want)
	}
	// nginx is on default too (published ports need a routed network): the
	// name it proxies to must resolve on cs-edge only, or nginx could
	// connect from its default address, which the app does not trust.
	app := p.Services["app"]
	if e := app.Networks[edgeNetwork]; e == nil || !slices.Contains(e.Aliases, "course-supporter-app") {
		t.Errorf("app lacks the alias course-supporter-app on %s", edgeNetwork)
	}
	if d := app.Networks["default"]; d != nil && slices.Contains(d.Aliases, "course-supporter-app") {
		t.Error("app has the alias course-supporter-app on default as well; nginx could reach it from an untrusted address")
	}
}

// Ensure the app believes X-Real-IP from exactly one address, nginx's fixed
// address on the edge network, and that this address is a valid fixed
// address of the configured subnet (what scripts/edge-network.sh enforces).
func TestProductionTrustsExactlyNginx(t *testing.T) {
	root := repoRoot(t)
	_, env := MustReadEnvFile(t, filepath.Join(root, ".env.prod.example"))
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	e := p.Services["nginx"].Networks[edgeNetwork]
	if e == nil || e.Ipv4Address == "" {
		t.Fatalf("nginx has no fixed ipv4_address on %s", edgeNetwork)
	}
	if e.Ipv4Address != env["EDGE_NGINX_IP"] {
		t.Errorf("nginx address %q, want EDGE_NGINX_IP %q", e.Ipv4Address, env["EDGE_NGINX_IP"])
	}
	checkEdgeAddress(t, env["EDGE_SUBNET"], e.Ipv4Address)
	for _, name := range []string{"app", "worker", "migrate"} {
		if got, want := envValue(p.Services[name], "TRUSTED_PROXIES"), e.Ipv4Address+"/32"; got != want {
			t.Errorf("%s: TRUSTED_PROXIES = %q, want nginx's %q", name, got, want)
		}
	}
	if v, ok := env["TRUSTED_PROXIES"]; ok && v != e.Ipv4Address+"/32" {
		t.Errorf(".env.prod.example sets TRUSTED_PROXIES=%s; compose overrides it with %s/32, so drop it", v, e.Ipv4Address)
	}
	// The same pairing with a host's own EDGE_NGINX_IP.
	custom, err := loadCompose(t, "docker-compose.yml", []string{"*"}, []string{"POSTGRES_PASSWORD=x", "EDGE_NGINX_IP=10.99.0.7"})
	if err != nil {
		t.Fatal(err)
	}
	if got := custom.Services["nginx"].Networks[edgeNetwork].Ipv4Address; got != "10.99.0.7" {
		t.Errorf("EDGE_NGINX_IP=10.99.0.7: nginx address %q", got)
	}
	if got := envValue(custom.Services["app"], "TRUSTED_PROXIES"); got != "10.99.0.7/32" {
		t.Errorf("EDGE_NGINX_IP=10.99.0.7: app TRUSTED_PROXIES %q", got)
	}
	// Without the setting (a host upgraded from before cs-edge), compose and
	// the script fall back to the same defaults as the example.
	def, err := loadCompose(t, "docker-compose.yml", []string{"*"}, []string{"POSTGRES_PASSWORD=x", "EDGE_NGINX_IP="})
	if err != nil {
		t.Fatal(err)
	}
	script := scriptDefaults(t)
	if got := def.Services["nginx"].Networks[edgeNetwork].Ipv4Address; got != script["EDGE_NGINX_IP"] || got != env["EDGE_NGINX_IP"] {
		t.Errorf("default nginx address: compose %q, scripts/edge-network.sh %q, example %q", got, script["EDGE_NGINX_IP"], env["EDGE_NGINX_IP"])
	}
	if script["EDGE_SUBNET"] != env["EDGE_SUBNET"] {
		t.Errorf("default EDGE_SUBNET: scripts/edge-network.sh %q, example %q", script["EDGE_SUBNET"], env["EDGE_SUBNET"])
	}
}

// Ensure scripts/edge-network.sh creates the network compose expects:
// internal, the configured subnet, Docker's dynamic range clear of nginx's
// fixed address; and that it refuses a network that exists with other
// settings, or an address the subnet cannot hold.
func TestEdgeNetworkScript(t *testing.T) {
	root := repoRoot(t)
	_, env := MustReadEnvFile(t, filepath.Join(root, ".env.prod.example"))

	created := runEdgeScript(t, "", nil)
	if created.err != nil {
		t.Fatalf("fresh host: %v\n%s", created.err, created.out)
	}
	args := strings.Fields(created.calls[len(created.calls)-1])
	if !slices.Contains(args, "--internal") {
		t.Errorf("network create without --internal: %v", args)
	}
	if args[len(args)-1] != edgeNetwork {
		t.Errorf("network create names %q, want %s", args[len(args)-1], edgeNetwork)
	}
	if got := flagValue(args, "--subnet"); got != env["EDGE_SUBNET"] {
		t.Errorf("--subnet %q, want EDGE_SUBNET %q", got, env["EDGE_SUBNET"])
	}
	ipRange, err := netip.ParsePrefix(flagValue(args, "--ip-range"))
	if err != nil {
		t.Fatalf("--ip-range: %v", err)
	}
	if ipRange.Contains(netip.MustParseAddr(env["EDGE_NGINX_IP"])) {
		t.Errorf("dynamic range %s contains nginx's fixed %s: a container started first could take it", ipRange, env["EDGE_NGINX_IP"])
	}
	if !netip.MustParsePrefix(env["EDGE_SUBNET"]).Contains(ipRange.Addr()) {
		t.Errorf("dynamic range %s outside %s", ipRange, env["EDGE_SUBNET"])
	}

	if r := runEdgeScript(t, "true "+env["EDGE_SUBNET"], nil); r.err != nil || len(r.calls) != 1 {
		t.Errorf("existing matching network: err %v, calls %q (want only the inspect)", r.err, r.calls)
	}
	// The one-time move of a running nginx: attached at its fixed address,
	// and only when it is not attached yet.
	move := runEdgeScript(t, "true "+env["EDGE_SUBNET"], []string{"FAKE_NETS=course-supporter_default shared-net "}, "course-supporter-nginx")
	if want := "network connect --ip " + env["EDGE_NGINX_IP"] + " " + edgeNetwork + " course-supporter-nginx"; move.err != nil || !slices.Contains(move.calls, want) {
		t.Errorf("--connect: err %v, calls %q, want %q\n%s", move.err, move.calls, want, move.out)
	}
	again := runEdgeScript(t, "true "+env["EDGE_SUBNET"], []string{"FAKE_NETS=course-supporter_default cs-edge "}, "course-supporter-nginx")
	if again.err != nil || slices.ContainsFunc(again.calls, func(c string) bool { return strings.HasPrefix(c, "network connect") }) {
		t.Errorf("--connect of an attached nginx: err %v, calls %q", again.err, again.calls)
	}

	for name, tc := range map[string]struct {
		inspect string
		env     []string
	}{
		"not internal":            {inspect: "false " + env["EDGE_SUBNET"]},
		"other subnet":            {inspect: "true 172.18.0.0/16"},
		"address outside":         {env: []string{"EDGE_NGINX_IP=10.1.2.3"}},
		"address in dynamic half": {env: []string{"EDGE_NGINX_IP=172.30.240.200"}},
		"address is the gateway":  {env: []string{"EDGE_NGINX_IP=172.30.240.1"}},
		"host bits in subnet":     {env: []string{"EDGE_SUBNET=172.30.240.5/24"}},
	} {
		r := runEdgeScript(t, tc.inspect, tc.env)
		if r.err == nil {
			t.Errorf("%s: accepted\n%s", name, r.out)
		}
		if slices.ContainsFunc(r.calls, func(c string) bool { return strings.HasPrefix(c, "network create") }) {
			t.Errorf("%s: created a network anyway: %q", name, r.calls)
		}
	}
}

func checkEdgeAddress(t *testing.T, subnet, addr string) {
	t.Helper()
	pfx, err := netip.ParsePrefix(subnet)
	if err != nil || pfx.Masked() != pfx || !pfx.Addr().Is4() {
		t.Fatalf("EDGE_SUBNET %q is not an IPv4 network: %v", subnet, err)
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		t.Fatalf("nginx address %q: %v", addr, err)
	}
	gateway := pfx.Addr().Next()
	lower := netip.PrefixFrom(pfx.Addr(), pfx.Bits()+1)
	if !lower.Contains(ip) || ip.Compare(gateway) <= 0 {
		t.Errorf("nginx address %s must be in %s above the gateway %s (the upper half is Docker's dynamic range)", ip, lower, gateway)
	}
}

// scriptDefaults reads the `: "${EDGE_X:=default}"` lines of the script.
func scriptDefaults(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts/edge-network.sh"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^: "\$\{(EDGE_[A-Z_]+):=([^}]*)\}"`).FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

type edgeRun struct {
	out   string
	calls []string
	err   error
}

// runEdgeScript runs scripts/edge-network.sh with the example env file and a
// stand-in docker that records its arguments; `network inspect` prints
// inspect, or fails (no such network) when inspect is empty; `inspect -f`
// of a container prints FAKE_NETS (its networks) from env. With connect,
// the script runs with --connect CONTAINER.
func runEdgeScript(t *testing.T, inspect string, env []string, connect ...string) edgeRun {
	t.Helper()
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	fake := `#!/bin/sh
echo "$*" >>"$FAKE_CALLS"
case "$1 $2" in
"network inspect") [ -n "$FAKE_INSPECT" ] || exit 1; echo "$FAKE_INSPECT" ;;
"network create" | "network connect") ;;
"inspect -f") echo "$FAKE_NETS" ;;
*) echo "unexpected docker $*" >&2; exit 97 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	root := repoRoot(t)
	cmd := exec.Command("bash", filepath.Join(root, "scripts/edge-network.sh"))
	cmd.Env = append([]string{
		"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"CS_ENV_FILE=" + filepath.Join(root, ".env.prod.example"),
		"FAKE_CALLS=" + calls, "FAKE_INSPECT=" + inspect,
	}, env...)
	if len(connect) > 0 {
		cmd.Args = append(cmd.Args, "--connect", connect[0])
	}
	out, err := cmd.CombinedOutput()
	b, _ := os.ReadFile(calls)
	return edgeRun{out: string(out), calls: strings.Split(strings.TrimSpace(string(b)), "\n"), err: err}
}

func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}
