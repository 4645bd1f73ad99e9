# A stand-in for the root configuration: modules named like main.tf's stage
# modules. Only the built-in terraform_data resource is used, so
# no provider is installed; "gate" makes a resource wait until a file exists.
variable "mesh_count" {
  type    = number
  default = 2
}
variable "keep_outside" {
  type    = bool
  default = true
}
variable "gate" {
  type    = string
  default = ""
}

module "service_mesh" {
  source = "./modules/m"
  n      = var.mesh_count
  gate   = var.gate
}

module "storage" {
  source = "./modules/m"
  n      = 1
  gate   = ""
}

module "ingress" {
  source = "./modules/m"
  count  = var.keep_outside ? 1 : 0
  n      = 1
  gate   = ""
}

# Written by the stage runner into terraform.tfvars.
variable "enabled_stages" {
  type    = list(string)
  default = []
}

output "mesh_count" {
  value = var.mesh_count
}
