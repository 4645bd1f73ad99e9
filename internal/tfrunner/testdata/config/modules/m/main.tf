variable "n" {
  type = number
}
variable "gate" {
  type = string
}

resource "terraform_data" "r" {
  count = var.n
  input = count.index
  provisioner "local-exec" {
    command = var.gate == "" ? "true" : "while [ ! -e '${var.gate}' ]; do sleep 0.1; done"
  }
}
