# A stand-in for the root configuration: stage modules and one resource that
# belongs to no stage. Only the built-in terraform_data resource is used, so
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

module "mesh" {
  source = "./modules/m"
  n      = var.mesh_count
  gate   = var.gate
}

module "storage" {
  source = "./modules/m"
  n      = 1
  gate   = ""
}

resource "terraform_data" "outside" {
  count = var.keep_outside ? 1 : 0
  input = "not part of any stage"
}
