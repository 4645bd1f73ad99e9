# Every key migrate-tui writes to terraform.tfvars is declared here, with a
# description and a validation. internal/decisions holds the same catalogue
# (options, defaults, explanations); a test keeps the two in step.

# ---------------------------------------------------------------- cluster ---

variable "kubeconfig_path" {
  description = "Path of the K3s cluster's kubeconfig (the cluster stage writes it; the sandbox prints its own)."
  type        = string
  default     = "~/.kube/k3s-poc.yaml"
  validation {
    condition     = length(trimspace(var.kubeconfig_path)) > 0
    error_message = "kubeconfig_path must not be empty."
  }
}

variable "enabled_stages" {
  description = "Installation stages applied by this configuration, in order: mesh, storage, vault, vpa, ingress, services. The cluster stage runs over SSH, not here."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for s in var.enabled_stages : contains(["mesh", "storage", "vault", "vpa", "ingress", "services"], s)])
    error_message = "enabled_stages may hold only mesh, storage, vault, vpa, ingress and services."
  }
}

variable "control_plane_topology" {
  description = "K3s control plane: ha-3-servers (embedded etcd on every node) or 1-server-2-agents (lighter on the arm64 nodes)."
  type        = string
  default     = "ha-3-servers"
  validation {
    condition     = contains(["ha-3-servers", "1-server-2-agents"], var.control_plane_topology)
    error_message = "control_plane_topology must be ha-3-servers or 1-server-2-agents."
  }
}

variable "k3s_version" {
  description = "Pinned K3s release installed on every node, e.g. v1.34.3+k3s1."
  type        = string
  default     = "v1.34.3+k3s1"
  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$", var.k3s_version))
    error_message = "k3s_version must look like v1.34.3+k3s1."
  }
}

variable "nodes" {
  description = "The nodes K3s is installed on. The first server is initialised with cluster-init; role is server or agent."
  type = list(object({
    name    = string
    address = string
    arch    = string
    role    = string
  }))
  default = [
    { name = "hestia", address = "192.168.1.5", arch = "amd64", role = "server" },
    { name = "heracles", address = "192.168.1.6", arch = "arm64", role = "server" },
    { name = "nyx", address = "192.168.1.7", arch = "arm64", role = "server" },
  ]
  validation {
    condition     = length(var.nodes) > 0 && alltrue([for n in var.nodes : contains(["amd64", "arm64"], n.arch) && contains(["server", "agent"], n.role) && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", n.name))])
    error_message = "Each node needs a DNS-label name, arch amd64 or arm64 and role server or agent."
  }
}

variable "cluster_cidr" {
  description = "Pod network CIDR (K3s --cluster-cidr). Must not overlap the LAN, Nomad's bridge (172.26.64.0/20) or Docker (172.17.0.0/16)."
  type        = string
  default     = "10.42.0.0/16"
  validation {
    condition     = can(cidrhost(var.cluster_cidr, 0))
    error_message = "cluster_cidr must be a CIDR such as 10.42.0.0/16."
  }
}

variable "service_cidr" {
  description = "Service network CIDR (K3s --service-cidr)."
  type        = string
  default     = "10.43.0.0/16"
  validation {
    condition     = can(cidrhost(var.service_cidr, 0))
    error_message = "service_cidr must be a CIDR such as 10.43.0.0/16."
  }
}

variable "lan_cidr" {
  description = "The homelab LAN, so no cluster or Cilium pool overlaps it."
  type        = string
  default     = "192.168.1.0/24"
  validation {
    condition     = can(cidrhost(var.lan_cidr, 0))
    error_message = "lan_cidr must be a CIDR such as 192.168.1.0/24."
  }
}

variable "node_port_range" {
  description = "K3s --service-node-port-range, clear of Nomad's dynamic ports (20000-32000 by default)."
  type        = string
  default     = "32001-32767"
  validation {
    condition     = can(regex("^[0-9]+-[0-9]+$", var.node_port_range)) && tonumber(split("-", var.node_port_range)[0]) < tonumber(split("-", var.node_port_range)[1])
    error_message = "node_port_range must be LOW-HIGH with LOW < HIGH, e.g. 32001-32767."
  }
}

variable "nomad_dynamic_port_range" {
  description = "Nomad's client dynamic port range (min_dynamic_port-max_dynamic_port), read in preflight; used to keep NodePorts clear of it."
  type        = string
  default     = "20000-32000"
  validation {
    condition     = can(regex("^[0-9]+-[0-9]+$", var.nomad_dynamic_port_range))
    error_message = "nomad_dynamic_port_range must be LOW-HIGH, e.g. 20000-32000."
  }
}

variable "k3s_disable" {
  description = "Packaged K3s components to disable (traefik, servicelb, local-storage, metrics-server)."
  type        = list(string)
  default     = ["traefik", "servicelb"]
  validation {
    condition     = alltrue([for c in var.k3s_disable : contains(["traefik", "servicelb", "local-storage", "metrics-server", "coredns"], c)])
    error_message = "k3s_disable may hold traefik, servicelb, local-storage, metrics-server and coredns."
  }
}

variable "system_reserved" {
  description = "kubelet system-reserved, sized so Nomad keeps its headroom."
  type        = string
  default     = "cpu=250m,memory=512Mi"
  validation {
    condition     = can(regex("^([a-z-]+=[0-9]+[a-zA-Z]*,?)+$", var.system_reserved))
    error_message = "system_reserved must look like cpu=250m,memory=512Mi."
  }
}

variable "kube_reserved" {
  description = "kubelet kube-reserved for the K3s processes themselves."
  type        = string
  default     = "cpu=250m,memory=512Mi"
  validation {
    condition     = can(regex("^([a-z-]+=[0-9]+[a-zA-Z]*,?)+$", var.kube_reserved))
    error_message = "kube_reserved must look like cpu=250m,memory=512Mi."
  }
}

# ---------------------------------------------------------------- storage ---

variable "storage_backend" {
  description = "Storage for PoC volumes: local-path, longhorn, glusterfs-hostpath (the hosts' GlusterFS mounts) or glusterfs-nfs."
  type        = string
  default     = "local-path"
  validation {
    condition     = contains(["local-path", "longhorn", "glusterfs-hostpath", "glusterfs-nfs"], var.storage_backend)
    error_message = "storage_backend must be local-path, longhorn, glusterfs-hostpath or glusterfs-nfs."
  }
}

variable "glusterfs_mount_root" {
  description = "Where the GlusterFS volumes are mounted on every host (volumes are glusterfs_<service>_<type> below it)."
  type        = string
  default     = "/storage/v"
  validation {
    condition     = startswith(var.glusterfs_mount_root, "/")
    error_message = "glusterfs_mount_root must be an absolute path."
  }
}

variable "nfs_server" {
  description = "NFS server exporting the GlusterFS volumes (storage_backend = glusterfs-nfs)."
  type        = string
  default     = ""
  validation {
    condition     = var.nfs_server == "" || can(regex("^[A-Za-z0-9.-]+$", var.nfs_server))
    error_message = "nfs_server must be a host name or address."
  }
}

variable "nfs_path" {
  description = "Exported path on nfs_server."
  type        = string
  default     = "/storage"
  validation {
    condition     = startswith(var.nfs_path, "/")
    error_message = "nfs_path must be an absolute path."
  }
}

# ------------------------------------------------------------------- mesh ---

variable "service_mesh" {
  description = "Mesh / mTLS: cilium (CNI + WireGuard + CiliumNetworkPolicy), linkerd, istio-ambient or none."
  type        = string
  default     = "cilium"
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient", "none"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd, istio-ambient or none."
  }
}

variable "cilium_ipam_mode" {
  description = "Cilium IPAM: kubernetes (use K3s's cluster_cidr per node) or cluster-pool with cilium_pool_cidr."
  type        = string
  default     = "kubernetes"
  validation {
    condition     = contains(["kubernetes", "cluster-pool"], var.cilium_ipam_mode)
    error_message = "cilium_ipam_mode must be kubernetes or cluster-pool."
  }
}

variable "cilium_pool_cidr" {
  description = "Cilium cluster-pool CIDR when cilium_ipam_mode = cluster-pool; must not cover the LAN or the K3s CIDRs."
  type        = string
  default     = "10.44.0.0/16"
  validation {
    condition     = can(cidrhost(var.cilium_pool_cidr, 0))
    error_message = "cilium_pool_cidr must be a CIDR."
  }
}

# ---------------------------------------------------------------- ingress ---

variable "ingress_mode" {
  description = "Ingress: traefik-behind-external (Traefik on K3s on a NodePort, the external Traefik forwards to it), bundled-traefik (K3s's own, on 80/443) or external-direct (the external Traefik routes to Services' NodePorts)."
  type        = string
  default     = "traefik-behind-external"
  validation {
    condition     = contains(["traefik-behind-external", "bundled-traefik", "external-direct"], var.ingress_mode)
    error_message = "ingress_mode must be traefik-behind-external, bundled-traefik or external-direct."
  }
}

variable "domain" {
  description = "DNS domain the PoC services are served under (whoami.<domain>)."
  type        = string
  default     = "brmartin.co.uk"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.domain))
    error_message = "domain must be a DNS name such as example.org."
  }
}

variable "poc_host_pattern" {
  description = "Host each PoC service answers at during the PoC; {service} and {domain} are replaced. The default <service>-k8s.<domain> leaves <service>.<domain> to Nomad's service until cutover moves it."
  type        = string
  default     = "{service}-k8s.{domain}"
  validation {
    condition     = strcontains(var.poc_host_pattern, "{service}") && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", replace(replace(var.poc_host_pattern, "{service}", "whoami"), "{domain}", "example.org")))
    error_message = "poc_host_pattern must contain {service} and give a DNS name, such as {service}-k8s.{domain}."
  }
}

variable "traefik_https_node_port" {
  description = "NodePort of Traefik's websecure entrypoint (inside node_port_range)."
  type        = number
  default     = 32443
  validation {
    condition     = var.traefik_https_node_port >= 1 && var.traefik_https_node_port <= 65535
    error_message = "traefik_https_node_port must be a port number."
  }
}

variable "traefik_http_node_port" {
  description = "NodePort of Traefik's web entrypoint (inside node_port_range)."
  type        = number
  default     = 32080
  validation {
    condition     = var.traefik_http_node_port >= 1 && var.traefik_http_node_port <= 65535
    error_message = "traefik_http_node_port must be a port number."
  }
}

variable "tls_secret_name" {
  description = "Name of the wildcard TLS Secret in the ingress namespace. migrate-tui creates it through the API from a certificate file; Terraform only refers to it, so the key never enters the state."
  type        = string
  default     = "wildcard-tls"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.tls_secret_name))
    error_message = "tls_secret_name must be a DNS label."
  }
}

variable "traefik_route_dir" {
  description = "Directory the external Traefik's file provider watches (providers.file.directory, as its host sees it). cutover writes migrate-tui-<service>.yml there to send the service's host to K3s and removes it on rollback; empty: the route is printed and confirmed by hand."
  type        = string
  default     = ""
  validation {
    condition     = var.traefik_route_dir == "" || startswith(var.traefik_route_dir, "/")
    error_message = "traefik_route_dir must be an absolute path or empty."
  }
}

variable "traefik_route_node" {
  description = "Node the external Traefik runs on; its route directory is reached over SSH (known_hosts checked) unless it is this machine (empty: this machine)."
  type        = string
  default     = "hestia"
  validation {
    condition     = var.traefik_route_node == "" || can(regex("^[A-Za-z0-9.-]+$", var.traefik_route_node))
    error_message = "traefik_route_node must be a host name or empty."
  }
}

variable "traefik_websecure_addr" {
  description = "host:port of the external Traefik's websecure entrypoint: where cutover proves a route with a request for the service's host."
  type        = string
  default     = "192.168.1.5:443"
  validation {
    condition     = can(regex("^[A-Za-z0-9.-]+:[0-9]+$", var.traefik_websecure_addr))
    error_message = "traefik_websecure_addr must be host:port."
  }
}

variable "consul_dns_servers" {
  description = "Consul DNS endpoints (host:port) CoreDNS forwards .consul to, so pods reach Nomad services during the hybrid period."
  type        = list(string)
  default     = ["192.168.1.5:8600", "192.168.1.6:8600", "192.168.1.7:8600"]
  validation {
    condition     = alltrue([for s in var.consul_dns_servers : can(regex("^[A-Za-z0-9.-]+:[0-9]+$", s))])
    error_message = "consul_dns_servers entries must be host:port."
  }
}

# ------------------------------------------------------------------ vault ---

variable "vault_method" {
  description = "How pods get Vault secrets: external-secrets (ESO syncs to Kubernetes Secrets) or agent-injector (Vault Agent sidecar, nothing in etcd)."
  type        = string
  default     = "external-secrets"
  validation {
    condition     = contains(["external-secrets", "agent-injector"], var.vault_method)
    error_message = "vault_method must be external-secrets or agent-injector."
  }
}

variable "vault_address" {
  description = "Address of the existing Vault, as pods and ESO reach it."
  type        = string
  default     = "https://vault.service.consul:8200"
  validation {
    # A URL to a server only: no whitespace or control characters (the value
    # goes into YAML), no user:password@ (it would sit in the state).
    condition     = can(regex("^https?://[^[:space:][:cntrl:]@/?#]+(/[^[:space:][:cntrl:]?#]*)?$", var.vault_address))
    error_message = "vault_address must be http(s)://host[:port][/path], without credentials, whitespace, query or fragment."
  }
}

variable "vault_ca_file" {
  description = "PEM file with the CA certificate that signed Vault's TLS certificate, for a Vault behind a private CA (ESO's ClusterSecretStore trusts it through the ConfigMap external-secrets/vault-ca). Empty: the system roots trust Vault's certificate. A CA certificate is public: its content may sit in the state."
  type        = string
  default     = ""
  validation {
    condition     = var.vault_ca_file == "" || (fileexists(var.vault_ca_file) && can(regex("-----BEGIN CERTIFICATE-----", file(var.vault_ca_file))))
    error_message = "vault_ca_file must name a readable PEM file with a CA certificate (or be empty)."
  }
}

variable "vault_kv_mount" {
  description = "Vault KV v2 mount that holds the services' secrets (Nomad reads nomad/default/<service>)."
  type        = string
  default     = "nomad"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.vault_kv_mount))
    error_message = "vault_kv_mount must be a mount name."
  }
}

variable "vault_auth_mount" {
  description = "Vault auth mount for the cluster's Kubernetes auth method."
  type        = string
  default     = "kubernetes-k3s"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.vault_auth_mount))
    error_message = "vault_auth_mount must be a mount name."
  }
}

# -------------------------------------------------------------------- vpa ---

variable "vpa_update_mode" {
  description = "updateMode of the PoC services' VerticalPodAutoscalers: Off only recommends."
  type        = string
  default     = "Off"
  validation {
    condition     = contains(["Off", "Initial", "Recreate", "Auto"], var.vpa_update_mode)
    error_message = "vpa_update_mode must be Off, Initial, Recreate or Auto (the installed VPA 1.4.1's CRD has no InPlaceOrRecreate)."
  }
}

# --------------------------------------------------------------- services ---

variable "poc_services" {
  description = "PoC services deployed on K3s: whoami (stateless), echo (mesh partner only whoami may call), overseerr (SQLite + Litestream)."
  type        = list(string)
  default     = ["whoami", "echo", "overseerr"]
  validation {
    condition     = alltrue([for s in var.poc_services : contains(["whoami", "echo", "overseerr"], s)])
    error_message = "poc_services may hold whoami, echo and overseerr."
  }
}

variable "services" {
  description = "Scaffolded services (migrate-tui scaffold writes their module blocks to services.generated.tf): service => { enabled = bool }, deployed with the services stage, optionally with volume_size and, for a module with Litestream, litestream_bucket, litestream_vault_key and seed_bucket (unset: the module's defaults). whoami, echo and overseerr stay in poc_services."
  type = map(object({
    enabled              = bool
    volume_size          = optional(string)
    litestream_bucket    = optional(string)
    litestream_vault_key = optional(string)
    seed_bucket          = optional(string)
  }))
  default = {}
  validation {
    condition     = alltrue([for s in keys(var.services) : can(regex("^[a-z]([-a-z0-9]*[a-z0-9])?$", s)) && !contains(["whoami", "echo", "overseerr"], s)])
    error_message = "services keys are scaffolded module names (DNS labels); whoami, echo and overseerr are switched by poc_services."
  }
}

variable "poc_namespace" {
  description = "Namespace of the PoC services."
  type        = string
  default     = "poc"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.poc_namespace))
    error_message = "poc_namespace must be a DNS label."
  }
}

variable "minio_endpoint" {
  description = "MinIO S3 endpoint Litestream replicates to, reached through Consul DNS: <service>.service.consul (a *.virtual.consul address is a transparent-proxy virtual IP only Envoy sidecars route)."
  type        = string
  default     = "http://minio-minio.service.consul:9000"
  validation {
    # A URL to a server only: no whitespace or control characters (the value
    # goes into YAML), no user:password@ (it would sit in the state).
    condition     = can(regex("^https?://[^[:space:][:cntrl:]@/?#]+(/[^[:space:][:cntrl:]?#]*)?$", var.minio_endpoint))
    error_message = "minio_endpoint must be http(s)://host[:port][/path], without credentials, whitespace, query or fragment."
  }
}

variable "overseerr_litestream_bucket" {
  description = "Litestream bucket of the K3s copy of Overseerr; never the Nomad copy's bucket."
  type        = string
  default     = "overseerr-k8s-litestream"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.overseerr_litestream_bucket)) && var.overseerr_litestream_bucket != "overseerr-litestream"
    error_message = "overseerr_litestream_bucket must be a valid bucket name and not overseerr-litestream (the Nomad copy's bucket)."
  }
}

variable "overseerr_litestream_version" {
  description = "Litestream image tag of the K3s copy of Overseerr; must match the Nomad job's (0.3 cannot restore 0.5's on-bucket format). The services stage refuses a mismatch."
  type        = string
  default     = "0.5"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)?$", var.overseerr_litestream_version))
    error_message = "overseerr_litestream_version must be a version such as 0.5 or 0.5.18."
  }
}

variable "overseerr_litestream_vault_key" {
  description = "Key in vault_kv_mount of the K3s copy's own S3 credentials (MINIO_ACCESS_KEY, MINIO_SECRET_KEY) for overseerr_litestream_bucket; never default/overseerr, the Nomad job's."
  type        = string
  default     = "default/overseerr-k8s"
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.overseerr_litestream_vault_key)) && var.overseerr_litestream_vault_key != "default/overseerr"
    error_message = "overseerr_litestream_vault_key must be a KV path other than default/overseerr (the Nomad job's credentials)."
  }
}
