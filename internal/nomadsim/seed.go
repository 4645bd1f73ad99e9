package nomadsim

import (
	"fmt"
	"time"

	"github.com/hashicorp/nomad/api"
)

// The homelab seed: three clients shaped like the operator's nodes and the
// kind of jobs they run (see shared/homelab.md). Everything is placed by the
// same code path as a job registered over HTTP.

type seedNode struct {
	name, arch, ip, osName, osVersion, cpuModel string
	memMB                                       int64
	cores                                       int
	mhz                                         int
}

var homelabNodes = []seedNode{
	{name: "hestia", arch: "amd64", ip: "192.168.1.5", osName: "fedora", osVersion: "41", cpuModel: "AMD Ryzen 7 5700G", memMB: 32768, cores: 8, mhz: 3800},
	{name: "heracles", arch: "arm64", ip: "192.168.1.6", osName: "debian", osVersion: "12", cpuModel: "Cortex-A76", memMB: 8192, cores: 4, mhz: 2400},
	{name: "nyx", arch: "arm64", ip: "192.168.1.7", osName: "debian", osVersion: "12", cpuModel: "Cortex-A76", memMB: 8192, cores: 4, mhz: 2400},
}

func seedNodes(s *Server) {
	for _, sn := range homelabNodes {
		idx := s.bump()
		shares := int64(sn.cores * sn.mhz)
		n := &api.Node{
			ID:         detID("node", sn.name),
			Datacenter: "dc1",
			Name:       sn.name,
			HTTPAddr:   sn.ip + ":4646",
			Attributes: map[string]string{
				"cpu.arch":                  sn.arch,
				"cpu.modelname":             sn.cpuModel,
				"cpu.numcores":              fmt.Sprint(sn.cores),
				"cpu.frequency":             fmt.Sprint(sn.mhz),
				"cpu.totalcompute":          fmt.Sprint(shares),
				"kernel.name":               "linux",
				"kernel.arch":               map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[sn.arch],
				"kernel.version":            "6.12.0",
				"os.name":                   sn.osName,
				"os.version":                sn.osVersion,
				"memory.totalbytes":         fmt.Sprint(sn.memMB * mib),
				"unique.hostname":           sn.name,
				"unique.network.ip-address": sn.ip,
				"nomad.version":             simVersion,
				"nomad.revision":            "nomadsim",
				"consul.version":            "1.20.2",
				"consul.connect":            "true",
				"driver.docker":             "1",
				"vault.accessible":          "true",
			},
			NodeResources: &api.NodeResources{
				Cpu:            api.NodeCpuResources{CpuShares: shares, TotalCpuCores: uint16(sn.cores)},
				Memory:         api.NodeMemoryResources{MemoryMB: sn.memMB},
				Disk:           api.NodeDiskResources{DiskMB: 200 * 1024},
				Networks:       []*api.NetworkResource{{Mode: "host", Device: "eth0", CIDR: sn.ip + "/32", IP: sn.ip, MBits: new(1000)}},
				MinDynamicPort: 20000,
				MaxDynamicPort: 32000,
			},
			ReservedResources: &api.NodeReservedResources{
				Cpu:    api.NodeReservedCpuResources{CpuShares: 200},
				Memory: api.NodeReservedMemoryResources{MemoryMB: 512},
			},
			Meta:     map[string]string{"connect.sidecar_image": "docker.io/envoyproxy/envoy:v1.31.2"},
			NodePool: "default",
			Drivers: map[string]*api.DriverInfo{
				"docker": {Detected: true, Healthy: true, HealthDescription: "Healthy", Attributes: map[string]string{"driver.docker.version": "27.4.1"}},
				"exec":   {Detected: true, Healthy: true, HealthDescription: "Healthy"},
			},
			CSINodePlugins: map[string]*api.CSIInfo{
				"glusterfs": {PluginID: "glusterfs", Healthy: true, HealthDescription: "healthy"},
			},
			SchedulingEligibility: "eligible",
			Status:                "ready",
			StatusUpdatedAt:       seedTime.Unix(),
			CreateIndex:           idx,
			ModifyIndex:           idx,
		}
		s.nodes = append(s.nodes, n)
	}
}

type taskOpt func(*api.Task)

func task(name, image string, cpu, memMB int, opts ...taskOpt) *api.Task {
	t := &api.Task{
		Name:      name,
		Driver:    "docker",
		Config:    map[string]any{"image": image},
		Resources: &api.Resources{CPU: new(cpu), MemoryMB: new(memMB)},
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

func lifecycle(hook string, sidecar bool) taskOpt {
	return func(t *api.Task) { t.Lifecycle = &api.TaskLifecycle{Hook: hook, Sidecar: sidecar} }
}

func memoryMax(mb int) taskOpt { return func(t *api.Task) { t.Resources.MemoryMaxMB = new(mb) } }

func args(a ...string) taskOpt { return func(t *api.Task) { t.Config["args"] = a } }

// vaultSecret renders the service's secrets from Vault KV v2 the way the
// operator's jobs do.
func vaultSecret(service string) taskOpt {
	return func(t *api.Task) {
		t.Vault = &api.Vault{Role: "nomad-workloads"}
		t.Templates = append(t.Templates, &api.Template{
			EmbeddedTmpl: new(fmt.Sprintf("{{ with secret \"nomad/data/default/%s\" }}{{ range $k, $v := .Data.data }}%s={{ $v }}\n{{ end }}{{ end }}", service, "{{ $k }}")),
			DestPath:     new("secrets/app.env"),
			Envvars:      new(true),
		})
	}
}

func mount(volume, dest string) taskOpt {
	return func(t *api.Task) {
		t.VolumeMounts = append(t.VolumeMounts, &api.VolumeMount{Volume: new(volume), Destination: new(dest)})
	}
}

// connectProxy is the Envoy sidecar task Nomad injects for a Connect service.
func connectProxy(service string) *api.Task {
	t := task("connect-proxy-"+service, "${meta.connect.sidecar_image}", 100, 64, lifecycle(api.TaskLifecycleHookPrestart, true))
	t.Kind = "connect-proxy:" + service
	return t
}

func onNode(name string) *api.Constraint {
	return &api.Constraint{LTarget: "${node.unique.name}", RTarget: name, Operand: "="}
}

func group(name string, count int, tasks ...*api.Task) *api.TaskGroup {
	return &api.TaskGroup{Name: new(name), Count: new(count), Tasks: tasks}
}

func traefikTags(router string) []string {
	return []string{
		"traefik.enable=true",
		fmt.Sprintf("traefik.http.routers.%s.rule=Host(`%s.brmartin.co.uk`)", router, router),
		fmt.Sprintf("traefik.http.routers.%s.entrypoints=websecure", router),
	}
}

func nomadService(name, port string, tags []string) *api.Service {
	return &api.Service{Name: name, PortLabel: port, Provider: "nomad", Tags: tags,
		Checks: []api.ServiceCheck{{Type: "http", Path: "/", Interval: 10 * time.Second, Timeout: 2 * time.Second}}}
}

func connectService(name, port string, upstreams ...string) *api.Service {
	svc := &api.Service{Name: name, PortLabel: port, Provider: "consul",
		Connect: &api.ConsulConnect{SidecarService: &api.ConsulSidecarService{Proxy: &api.ConsulProxy{}}}}
	for _, u := range upstreams {
		svc.Connect.SidecarService.Proxy.Upstreams = append(svc.Connect.SidecarService.Proxy.Upstreams,
			&api.ConsulUpstream{DestinationName: u, LocalBindPort: 8080})
	}
	return svc
}

func bridge(ports ...string) []*api.NetworkResource {
	n := &api.NetworkResource{Mode: "bridge"}
	for _, p := range ports {
		n.DynamicPorts = append(n.DynamicPorts, api.Port{Label: p, To: 8080})
	}
	return []*api.NetworkResource{n}
}

func csiVolume(name, source string) map[string]*api.VolumeRequest {
	return map[string]*api.VolumeRequest{name: {
		Name: name, Type: "csi", Source: source,
		AccessMode: "multi-node-multi-writer", AttachmentMode: "file-system",
	}}
}

// LitestreamImage is the Litestream the operator's jobs run (homelab.md):
// 0.5, whose on-bucket format (LTX files) 0.3 cannot restore.
const LitestreamImage = "litestream/litestream:0.5"

// LitestreamConfigPath is where the jobs' template writes litestream.yml.
const LitestreamConfigPath = "local/litestream.yml"

// litestreamConfig is the jobs' litestream.yml template: the MinIO keys
// from the service's Vault secret, the database on the allocation's disk,
// one S3 replica in <service>-litestream under path db, MinIO reached through
// its Consul transparent-proxy address (the jobs run behind Envoy sidecars).
func litestreamConfig(service string) string {
	return fmt.Sprintf(`{{ with secret "nomad/data/default/%[1]s" }}
access-key-id: {{ .Data.data.MINIO_ACCESS_KEY }}
secret-access-key: {{ .Data.data.MINIO_SECRET_KEY }}
{{ end }}
dbs:
  - path: /alloc/data/db.sqlite3
    replicas:
      - type: s3
        bucket: %[1]s-litestream
        path: db
        endpoint: http://minio-minio.virtual.consul:9000
        force-path-style: true
`, service)
}

func litestreamTemplate(service string) taskOpt {
	return func(t *api.Task) {
		t.Vault = &api.Vault{Role: "nomad-workloads"}
		t.Templates = append(t.Templates, &api.Template{
			EmbeddedTmpl: new(litestreamConfig(service)),
			DestPath:     new(LitestreamConfigPath),
		})
	}
}

// litestreamGroup is the operator's SQLite pattern: restore the database
// from MinIO before start, replicate it back from a sidecar, keep it on the
// allocation's ephemeral disk.
func litestreamGroup(service, image string, cpu, memMB int, node string) *api.TaskGroup {
	cfg := "/" + LitestreamConfigPath
	tg := group(service, 1,
		task("litestream-restore", LitestreamImage, 100, 64,
			lifecycle(api.TaskLifecycleHookPrestart, false), litestreamTemplate(service),
			args("restore", "-config", cfg, "-if-db-not-exists", "-if-replica-exists", "/alloc/data/db.sqlite3")),
		task(service, image, cpu, memMB, memoryMax(memMB*2), vaultSecret(service)),
		task("litestream", LitestreamImage, 100, 128,
			lifecycle(api.TaskLifecycleHookPoststart, true), litestreamTemplate(service),
			args("replicate", "-config", cfg)),
	)
	tg.Constraints = []*api.Constraint{onNode(node)}
	tg.EphemeralDisk = &api.EphemeralDisk{Sticky: new(true), Migrate: new(true), SizeMB: new(1024)}
	tg.Networks = bridge("http")
	tg.Services = []*api.Service{nomadService(service, "http", traefikTags(service))}
	return tg
}

func job(id, typ string, groups ...*api.TaskGroup) *api.Job {
	return &api.Job{ID: new(id), Name: new(id), Type: new(typ), Datacenters: []string{"dc1"}, TaskGroups: groups,
		Meta: map[string]string{"managed-by": "terraform", "module": "modules/" + id}}
}

// homelabJobs are the seeded jobs, in registration order.
func homelabJobs() []*api.Job {
	traefikGroup := group("traefik", 1, task("traefik", "traefik:v3.2", 200, 256))
	traefikGroup.Constraints = []*api.Constraint{onNode("hestia")}
	traefikGroup.Networks = []*api.NetworkResource{{Mode: "host", ReservedPorts: []api.Port{{Label: "websecure", Value: 443}, {Label: "web", Value: 80}}}}
	traefikGroup.Services = []*api.Service{nomadService("traefik", "websecure", []string{"traefik.enable=false"})}

	whoami := group("whoami", 2, task("whoami", "traefik/whoami:v1.10", 50, 32))
	whoami.Networks = bridge("http")
	whoami.Services = []*api.Service{nomadService("whoami", "http", traefikTags("whoami"))}

	echoServer := group("echo-server", 1, task("echo", "ealen/echo-server:0.9.2", 50, 64), connectProxy("echo"))
	echoServer.Networks = bridge("http")
	echoServer.Services = []*api.Service{connectService("echo", "8080")}
	echoServer.Constraints = []*api.Constraint{onNode("heracles")}
	echoClient := group("echo-client", 1, task("echo-client", "curlimages/curl:8.11.1", 50, 32,
		args("sh", "-c", "while true; do curl -s http://127.0.0.1:8080/ >/dev/null; sleep 30; done")), connectProxy("echo-client"))
	echoClient.Networks = bridge("http")
	echoClient.Services = []*api.Service{connectService("echo-client", "8080", "echo")}
	echoClient.Constraints = []*api.Constraint{onNode("nyx")}

	minio := group("minio", 1, task("minio", "minio/minio:RELEASE.2024-12-18T13-15-44Z", 500, 1024,
		args("server", "/data", "--console-address", ":9001"), vaultSecret("minio"), mount("data", "/data")), connectProxy("minio-minio"))
	minio.Volumes = csiVolume("data", "glusterfs_minio_data")
	minio.Networks = bridge("http")
	minio.Services = []*api.Service{connectService("minio-minio", "9000")}
	minio.Constraints = []*api.Constraint{onNode("heracles")}

	plex := group("plex", 1, task("plex", "plexinc/pms-docker:1.41.3", 2000, 2048, mount("config", "/config")))
	plex.Volumes = csiVolume("config", "glusterfs_plex_config")
	plex.Constraints = []*api.Constraint{onNode("hestia")}
	plex.Networks = []*api.NetworkResource{{Mode: "host", ReservedPorts: []api.Port{{Label: "http", Value: 32400}}}}
	plex.Services = []*api.Service{nomadService("plex", "http", traefikTags("plex"))}

	backupGroup := group("backup", 1, task("restic", "restic/restic:0.17.3", 500, 512,
		args("backup", "/storage/v"), vaultSecret("backup")))
	backupGroup.Constraints = []*api.Constraint{onNode("nyx")}
	backup := job("backup", api.JobTypeBatch, backupGroup)
	backup.Periodic = &api.PeriodicConfig{Enabled: new(true), Spec: new("0 3 * * *"), SpecType: new("cron"), ProhibitOverlap: new(true), TimeZone: new("Europe/London")}

	return []*api.Job{
		job("traefik", api.JobTypeSystem, traefikGroup),
		job("whoami", api.JobTypeService, whoami),
		job("echo", api.JobTypeService, echoServer, echoClient),
		job("minio", api.JobTypeService, minio),
		job("overseerr", api.JobTypeService, litestreamGroup("overseerr", "sctx/overseerr:1.33.2", 300, 512, "nyx")),
		job("vaultwarden", api.JobTypeService, litestreamGroup("vaultwarden", "vaultwarden/server:1.32.7", 200, 256, "heracles")),
		job("open-webui", api.JobTypeService, litestreamGroup("open-webui", "ghcr.io/open-webui/open-webui:0.5.4", 500, 1536, "hestia")),
		job("plex", api.JobTypeService, plex),
		backup,
	}
}

// HomelabJobIDs are the IDs of the seeded jobs (without the periodic child).
func HomelabJobIDs() []string {
	var ids []string
	for _, j := range homelabJobs() {
		ids = append(ids, *j.ID)
	}
	return ids
}

func seedJobs(s *Server) {
	for _, j := range homelabJobs() {
		if _, err := s.register(j); err != nil {
			panic(fmt.Sprintf("nomadsim: seed job %s: %v", *j.ID, err)) // a bug in the seed, not a runtime condition
		}
	}
	// last night's backup ran and finished
	if _, err := s.launchPeriodic("backup"); err != nil {
		panic(err)
	}
}
