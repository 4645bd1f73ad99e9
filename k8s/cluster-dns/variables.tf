variable "consul_dns_servers" {
  description = "Consul DNS endpoints (host:port) CoreDNS forwards .consul to."
  type        = list(string)
  validation {
    condition     = length(var.consul_dns_servers) > 0 && alltrue([for s in var.consul_dns_servers : can(regex("^[A-Za-z0-9.-]+:[0-9]+$", s))])
    error_message = "consul_dns_servers must list at least one host:port."
  }
}
