# One stage module of kubectl_manifest objects, applied to the test world.
terraform {
  required_providers {
    kubectl = {
      source  = "gavinbunney/kubectl"
      version = "1.19.0"
    }
  }
}

variable "kubeconfig_path" {
  type = string
}
variable "namespace" {
  type = string
}
variable "enabled_stages" {
  type    = list(string)
  default = []
}

provider "kubectl" {
  config_path      = var.kubeconfig_path
  load_config_file = true
}

module "storage" {
  source    = "./storage"
  count     = contains(var.enabled_stages, "storage") ? 1 : 0
  namespace = var.namespace
}
