package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// expectation is what one fixture must turn into.
type expectation struct {
	kinds    map[string]int // object kind -> count in the dry-run output
	mappings []string       // Mappings IDs that must be among the mapped items
	unmapped []string       // substrings some unmapped item must contain
	check    func(t *testing.T, objs []*unstructured.Unstructured)
}

var expectations = map[string]expectation{
	"sonarr": {
		kinds:    map[string]int{"VerticalPodAutoscaler": 1, "Deployment": 1, "ExternalSecret": 3, "ConfigMap": 3, "PersistentVolumeClaim": 2, "IngressRoute": 1, "Service": 1, "CiliumNetworkPolicy": 1},
		mappings: []string{"prestart", "sidecar", "csi", "volume-mount", "configmap", "vault-env", "arch", "checks", "middlewares", "host", "resources", "env", "kill-timeout", "litestream"},
		unmapped: []string{"config.volumes", "update stanza", "meta owner", "restart/reschedule"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			d := find(t, objs, "Deployment", "sonarr")
			inits, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "initContainers")
			if len(inits) != 3 || inits[2].(map[string]any)["restartPolicy"] != "Always" || inits[0].(map[string]any)["restartPolicy"] != nil ||
				inits[1].(map[string]any)["name"] != "litestream-seed" {
				t.Errorf("want the restore init container, the seed, then the Litestream native sidecar, got %v", inits)
			}
			checkLitestream(t, objs)
			want(t, d, "amd64", "spec", "template", "spec", "nodeSelector", "kubernetes.io/arch")
			want(t, d, int64(30), "spec", "template", "spec", "terminationGracePeriodSeconds")
			want(t, d, "/ping", "spec", "template", "spec", "containers", "0", "readinessProbe", "httpGet", "path")
			ir := find(t, objs, "IngressRoute", "sonarr")
			want(t, ir, "Host(`sonarr.brmartin.co.uk`)", "spec", "routes", "0", "match")
			pvc := find(t, objs, "PersistentVolumeClaim", "sonarr-config")
			want(t, pvc, "glusterfs_sonarr_config", "metadata", "annotations", "nfs.io/storage-path")
		},
	},
	"vaultwarden": {
		kinds:    map[string]int{"Deployment": 1, "ExternalSecret": 3, "Service": 1, "PersistentVolumeClaim": 1, "IngressRoute": 1},
		mappings: []string{"vault-env", "vault-file", "arch", "ports", "checks"},
		unmapped: []string{"no .Data.data.KEY", "only the first router", "only the first check", "each Vault key is one file"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			d := find(t, objs, "Deployment", "vaultwarden")
			want(t, d, "Recreate", "spec", "strategy", "type")
			es := find(t, objs, "ExternalSecret", "vaultwarden-vaultwarden-1")
			want(t, es, "SMTP_PASSWORD", "spec", "data", "1", "secretKey")
			want(t, es, "default/smtp", "spec", "data", "1", "remoteRef", "key")
			env := fmt.Sprint(d.Object["spec"])
			if !strings.Contains(env, "SMTP_HOST") {
				t.Errorf("the env template's literal line SMTP_HOST is not in the container's env")
			}
		},
	},
	"forgejo": {
		kinds:    map[string]int{"Deployment": 2, "ExternalSecret": 2, "Service": 1, "IngressRoute": 1, "Middleware": 1},
		mappings: []string{"upstreams", "groups", "node", "privileged", "sidecar", "args", "count", "middlewares"},
		unmapped: []string{"traefik.tcp.routers", "$NOMAD_ALLOC_ID", "host ports are not kept", "router middleware secure-headers@file: defined outside the job (Traefik's file provider)"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			mw := find(t, objs, "Middleware", "forgejo-forgejo-headers")
			want(t, mw, "noindex, nofollow", "spec", "headers", "customResponseHeaders", "X-Robots-Tag")
			want(t, mw, float64(31536000), "spec", "headers", "stsSeconds")
			ir := find(t, objs, "IngressRoute", "forgejo")
			want(t, ir, "forgejo-forgejo-headers", "spec", "routes", "0", "middlewares", "0", "name")
			want(t, ir, nil, "spec", "routes", "0", "middlewares", "1")
			f := find(t, objs, "Deployment", "forgejo")
			if env := fmt.Sprint(f.Object["spec"]); !strings.Contains(env, "value:$(NOMAD_UPSTREAM_ADDR_postgres)") || !strings.Contains(env, "value:postgres:5432") {
				t.Errorf("the upstream address is not set and referenced as $(VAR): %s", env)
			}
			r := find(t, objs, "Deployment", "forgejo-runner")
			want(t, int64(2), r, "spec", "replicas")
			want(t, "arm64", r, "spec", "template", "spec", "nodeSelector", "kubernetes.io/arch")
			want(t, true, r, "spec", "template", "spec", "initContainers", "0", "securityContext", "privileged")
			want(t, "/bin/sh", r, "spec", "template", "spec", "containers", "0", "args", "0")
		},
	},
	"restic-backup": {
		kinds:    map[string]int{"VerticalPodAutoscaler": 0, "CronJob": 1, "ExternalSecret": 1, "PersistentVolumeClaim": 1},
		mappings: []string{"periodic", "host-volume", "node"},
		unmapped: []string{"restart/reschedule"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			c := find(t, objs, "CronJob", "restic-backup")
			want(t, c, "30 3 * * *", "spec", "schedule")
			want(t, c, "Forbid", "spec", "concurrencyPolicy")
			want(t, c, "Europe/London", "spec", "timeZone")
			want(t, c, "/bin/sh", "spec", "jobTemplate", "spec", "template", "spec", "containers", "0", "command", "0")
		},
	},
	"jellyfin": {
		kinds:    map[string]int{"Deployment": 1, "PersistentVolumeClaim": 2, "IngressRoute": 1},
		mappings: []string{"gpu", "node", "resources"},
		unmapped: []string{"config.runtime", "device nvidia/gpu constraints"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			d := find(t, objs, "Deployment", "jellyfin")
			want(t, d, "1", "spec", "template", "spec", "containers", "0", "resources", "limits", "nvidia.com/gpu")
			want(t, d, "true", "spec", "template", "spec", "nodeSelector", "nvidia.com/gpu.present")
			want(t, d, "4", "spec", "template", "spec", "containers", "0", "resources", "requests", "cpu")
		},
	},
	"searxng": {
		kinds:    map[string]int{"Deployment": 1, "ConfigMap": 2, "ExternalSecret": 1, "Service": 1, "Middleware": 1},
		mappings: []string{"tasks", "configmap", "count", "ports", "middlewares"},
		unmapped: []string{"driver raw_exec", "artifacts", "check script", "affinities", "consul-template range", "service meta", "middleware type basicauth is not generated", "router middleware authelia@file"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			mw := find(t, objs, "Middleware", "searxng-searxng-ratelimit")
			want(t, mw, int64(10), "spec", "rateLimit", "average")
			want(t, mw, int64(20), "spec", "rateLimit", "burst")
			d := find(t, objs, "Deployment", "searxng")
			want(t, int64(2), d, "spec", "replicas")
			cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			if len(cs) != 2 {
				t.Errorf("want searxng and valkey as containers (log-shipper is raw_exec), got %d", len(cs))
			}
			if env := fmt.Sprint(d.Object["spec"]); !strings.Contains(env, "name:NOMAD_PORT_http value:8001") || !strings.Contains(env, "value:$(NOMAD_PORT_http)") {
				t.Errorf("the dynamic port is not set as NOMAD_PORT_http and referenced as $(VAR): %s", env)
			}
			cm := find(t, objs, "ConfigMap", "searxng-searxng-0")
			if s, _, _ := unstructured.NestedString(cm.Object, "data", "settings.yml"); !strings.Contains(s, `"%{not-a-template}"`) {
				t.Errorf("the template's literal %%{ was not kept through templatefile: %q", s)
			}
		},
	},
	"synapse-migrate": {
		kinds:    map[string]int{"Job": 1, "ConfigMap": 1, "ExternalSecret": 1},
		mappings: []string{"batch", "configmap"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			cm := find(t, objs, "ConfigMap", "synapse-migrate-update-db-0")
			if s, _, _ := unstructured.NestedString(cm.Object, "data", "log.config"); !strings.Contains(s, "${HOME}") {
				t.Errorf("the template's literal ${HOME} was not kept through templatefile: %q", s)
			}
		},
	},
}

// TestScaffoldFixtures: every realistic job scaffolds into a module that
// follows the module pattern, passes tofu validate, renders through tofu,
// and whose every object the API server accepts in a server-side dry-run.
func TestScaffoldFixtures(t *testing.T) {
	if world == nil {
		t.Skip("needs the test world (not -short)")
	}
	jobs := fixtures(t)
	tf := newTofu(t)
	repo := repoRoot(t)
	for _, name := range sortedNames(jobs) {
		t.Run(name, func(t *testing.T) {
			exp, ok := expectations[name]
			if !ok {
				t.Fatalf("fixture %s has no expectation row", name)
			}
			mod, err := Build(jobs[name], Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkPattern(t, mod)
			checkReport(t, mod, exp)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			md, err := Stage(t.TempDir(), repo, mod)
			if err != nil {
				t.Fatal(err)
			}
			if err := tf.Validate(ctx, md); err != nil {
				t.Fatal(err)
			}
			if out, err := tf.run(ctx, md, "", "fmt", "-check", "-no-color"); err != nil {
				t.Errorf("the module is not in tofu fmt's layout (%v): %s", err, out)
			}
			ns := world.Namespace(t)
			out, err := tf.Render(ctx, md, Inputs{Namespace: ns, IngressMode: "traefik-behind-external", IngressNamespace: "traefik",
				ServiceMesh: "cilium", ClusterCIDR: "10.42.0.0/16", LANCIDR: "192.168.1.0/24", StorageBackend: "glusterfs-nfs", VaultMethod: "external-secrets", VPAEnabled: true})
			if err != nil {
				t.Fatal(err)
			}
			objs := decode(t, out)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetKind()]++
			}
			for k, n := range exp.kinds {
				if kinds[k] != n {
					t.Errorf("want %d %s, got %d (all: %v)", n, k, kinds[k], kinds)
				}
			}
			if exp.check != nil {
				exp.check(t, objs)
			}
			if err := dryRun(ctx, world.RESTConfig, objs); err != nil {
				t.Errorf("server-side dry-run refused:\n%v\n---\n%s", err, out)
			}
			// The other Vault variant of the same module.
			out, err = tf.Render(ctx, md, Inputs{Namespace: ns, IngressMode: "traefik-behind-external", IngressNamespace: "traefik",
				ServiceMesh: "cilium", ClusterCIDR: "10.42.0.0/16", LANCIDR: "192.168.1.0/24", StorageBackend: "glusterfs-nfs", VaultMethod: "agent-injector", VPAEnabled: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := dryRun(ctx, world.RESTConfig, decode(t, out)); err != nil {
				t.Errorf("server-side dry-run of the agent-injector variant refused:\n%v\n---\n%s", err, out)
			}
		})
	}
}

// TestStorageBackends: the volumes template's other backends render
// objects the API server accepts (hostPath PV + claim, local-path claim).
func TestStorageBackends(t *testing.T) {
	if world == nil {
		t.Skip("needs the test world (not -short)")
	}
	jobs := fixtures(t)
	tf := newTofu(t)
	mod, err := Build(jobs["sonarr"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	md, err := Stage(t.TempDir(), repoRoot(t), mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		backend string
		kind    string
		field   []string
		want    string
	}{
		{"glusterfs-hostpath", "PersistentVolume", []string{"spec", "hostPath", "path"}, "/storage/v/glusterfs_sonarr_config"},
		{"local-path", "PersistentVolumeClaim", []string{"spec", "storageClassName"}, "local-path"},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			ns := world.Namespace(t)
			out, err := tf.Render(ctx, md, Inputs{Namespace: ns, IngressMode: "external-direct", NodePort: 30123, ServiceMesh: "none",
				ClusterCIDR: "10.42.0.0/16", LANCIDR: "192.168.1.0/24", StorageBackend: tc.backend, VaultMethod: "none"})
			if err != nil {
				t.Fatal(err)
			}
			objs := decode(t, out)
			var got []string
			for _, o := range objs {
				if o.GetKind() == tc.kind {
					s, _, _ := unstructured.NestedString(o.Object, tc.field...)
					got = append(got, s)
				}
				if o.GetKind() == "ExternalSecret" || o.GetKind() == "IngressRoute" {
					t.Errorf("%s rendered with vault_method none / external-direct", o.GetKind())
				}
			}
			if !strings.Contains(strings.Join(got, ","), tc.want) {
				t.Errorf("%s %v: want %q among %v", tc.kind, tc.field, tc.want, got)
			}
			svc := find(t, objs, "Service", "sonarr")
			want(t, svc, "NodePort", "spec", "type")
			if err := dryRun(ctx, world.RESTConfig, objs); err != nil {
				t.Errorf("server-side dry-run refused:\n%v", err)
			}
		})
	}
}

// TestMappingTableCovered: every row of the documented mapping is used by
// some fixture, and every mapped item names a row.
func TestMappingTableCovered(t *testing.T) {
	ids := map[string]bool{}
	for _, m := range Mappings {
		ids[m.ID] = false
	}
	for name, j := range fixtures(t) {
		mod, err := Build(j, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range mod.Mapped {
			if _, ok := ids[it.Mapping]; !ok {
				t.Errorf("%s: mapped item %+v names no Mappings row", name, it)
			}
			ids[it.Mapping] = true
		}
	}
	for id, used := range ids {
		if !used {
			t.Errorf("Mappings row %q is used by no fixture", id)
		}
	}
}

// TestRefusesOverwrite: Write refuses an existing module without force.
func TestRefusesOverwrite(t *testing.T) {
	mod, err := Build(fixtures(t)["synapse-migrate"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	if _, err := mod.Write(repo, false); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(repo, "modules-k8s", "synapse-migrate", "main.tf")
	if err := os.WriteFile(p, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if _, err := mod.Write(repo, false); !errors.As(err, &ee) {
		t.Fatalf("want ExistsError, got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "# edited\n" {
		t.Fatalf("the module was overwritten without force")
	}
	if _, err := mod.Write(repo, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) == "# edited\n" {
		t.Fatalf("force did not regenerate the module")
	}
}

// TestBuildRefuses: a job with nothing to run is refused with the reason.
func TestBuildRefuses(t *testing.T) {
	name, drv := "legacy", "raw_exec"
	j := fixtures(t)["synapse-migrate"]
	j.Name, j.ID = &name, &name
	j.TaskGroups[0].Tasks[0].Driver = drv
	if _, err := Build(j, Options{}); err == nil || !strings.Contains(err.Error(), "no task group with a docker task") {
		t.Fatalf("want a refusal naming the missing docker task, got %v", err)
	}
	if _, err := Build(fixtures(t)["sonarr"], Options{Service: "Bad_Name"}); err == nil {
		t.Fatal("a non-DNS service name was accepted")
	}
}

// checkPattern: the module has the files and the variables/outputs every
// service module has (specs/003-nomad-to-kubernetes/contracts/module-pattern.md).
func checkPattern(t *testing.T, mod *Module) {
	t.Helper()
	p := hclparse.NewParser()
	blocks := map[string]bool{}
	for _, f := range []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf"} {
		src, ok := mod.Files[f]
		if !ok {
			t.Fatalf("module has no %s", f)
		}
		file, diags := p.ParseHCL([]byte(src), f)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		content, _, _ := file.Body.PartialContent(&hclSchema)
		for _, b := range content.Blocks {
			if len(b.Labels) > 0 {
				blocks[b.Type+"."+b.Labels[0]] = true
			}
		}
	}
	for _, want := range []string{"variable.namespace", "variable.service_mesh", "variable.vpa_enabled", "variable.vpa_update_mode", "output.name", "output.url", "output.objects"} {
		if !blocks[want] {
			t.Errorf("module lacks %s (the module pattern)", want)
		}
	}
}

// checkReport: the expected mapped rows and unmapped items are reported,
// and each unmapped item is written as a comment in main.tf.
func checkReport(t *testing.T, mod *Module, exp expectation) {
	t.Helper()
	got := map[string]bool{}
	for _, it := range mod.Mapped {
		got[it.Mapping] = true
	}
	for _, id := range exp.mappings {
		if !got[id] {
			t.Errorf("mapping %q not reported as used", id)
		}
	}
	var all []string
	for _, u := range mod.Unmapped {
		line := oneLine(u.Where) + ": " + oneLine(u.What) + ": " + oneLine(u.Reason)
		all = append(all, line)
		if !strings.Contains(mod.Files["main.tf"], "#   - "+line) {
			t.Errorf("unmapped item %q is not a comment in main.tf", line)
		}
	}
	joined := strings.Join(all, "\n")
	for _, s := range exp.unmapped {
		if !strings.Contains(joined, s) {
			t.Errorf("no unmapped item mentions %q; unmapped:\n%s", s, joined)
		}
	}
}

func decode(t *testing.T, stream string) []*unstructured.Unstructured {
	t.Helper()
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(stream), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := d.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the rendered stream is not YAML: %v\n%s", err, stream)
		}
		if m == nil {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	if len(objs) == 0 {
		t.Fatal("no objects rendered")
	}
	return objs
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// want compares the value at a path (numeric segments index lists); the
// value may come before or after the object.
func want(t *testing.T, a any, b any, path ...string) {
	t.Helper()
	o, ok := a.(*unstructured.Unstructured)
	wantV := b
	if !ok {
		o, wantV = b.(*unstructured.Unstructured), a
	}
	var cur any = o.Object
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			var i int
			fmt.Sscan(p, &i)
			if i >= len(c) {
				cur = nil
				break
			}
			cur = c[i]
		default:
			cur = nil
		}
	}
	if fmt.Sprint(cur) != fmt.Sprint(wantV) {
		t.Errorf("%s %s %v: want %v, got %v", o.GetKind(), o.GetName(), path, wantV, cur)
	}
}

// dryRun server-side applies every object with dryRun=All.
func dryRun(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) error {
	quiet := rest.CopyConfig(cfg)
	quiet.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(quiet)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(quiet)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	var errs []error
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: not served: %w", gvk, o.GetName(), err))
			continue
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		if _, err := ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "scaffold-test", Force: true, DryRun: []string{metav1.DryRunAll}}); err != nil {
			errs = append(errs, fmt.Errorf("%s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// TestApplyInWorld: a scaffolded module applies for real (tofu apply with
// the kubectl provider) next to nothing else in a fresh namespace, its
// objects output names what is then in the cluster, and destroy removes it.
func TestApplyInWorld(t *testing.T) {
	if world == nil {
		t.Skip("needs the test world (not -short)")
	}
	jobs := fixtures(t)
	tf := newTofu(t)
	for _, name := range []string{"sonarr", "restic-backup"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			mod, err := Build(jobs[name], Options{})
			if err != nil {
				t.Fatal(err)
			}
			md, err := Stage(t.TempDir(), repoRoot(t), mod)
			if err != nil {
				t.Fatal(err)
			}
			ns := world.Namespace(t)
			out, err := tf.Apply(ctx, md, Inputs{Namespace: ns, IngressMode: "traefik-behind-external", IngressNamespace: "traefik",
				ServiceMesh: "none", ClusterCIDR: "10.42.0.0/16", LANCIDR: "192.168.1.0/24", StorageBackend: "glusterfs-nfs", VaultMethod: "external-secrets"}, world.Kubeconfig)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) == 0 {
				t.Fatalf("objects output %q: %v", out, err)
			}
			dyn, err := dynamic.NewForConfig(world.RESTConfig)
			if err != nil {
				t.Fatal(err)
			}
			dc, err := discovery.NewDiscoveryClientForConfig(world.RESTConfig)
			if err != nil {
				t.Fatal(err)
			}
			mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
			for _, k := range keys {
				parts := strings.SplitN(k, "/", 3)
				gk := kindGroup(parts[0])
				m, err := mapper.RESTMapping(gk)
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				if _, err := dyn.Resource(m.Resource).Namespace(parts[1]).Get(ctx, parts[2], metav1.GetOptions{}); err != nil {
					t.Errorf("%s is in the objects output but not in the cluster: %v", k, err)
				}
			}
			if err := tf.Destroy(ctx, md); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// kindGroup names the API group of the kinds a scaffolded module makes.
func kindGroup(kind string) schema.GroupKind {
	groups := map[string]string{"Deployment": "apps", "CronJob": "batch", "Job": "batch", "ExternalSecret": "external-secrets.io",
		"IngressRoute": "traefik.io", "VerticalPodAutoscaler": "autoscaling.k8s.io", "CiliumNetworkPolicy": "cilium.io"}
	return schema.GroupKind{Group: groups[kind], Kind: kind}
}
