variable "streams" {
  description = "Rendered YAML streams (objects separated by --- lines) to apply."
  type        = list(string)
  validation {
    condition = alltrue(flatten([for s in var.streams : [
      for d in split("\n---\n", "\n${s}\n") : can(yamldecode(d).apiVersion) && can(yamldecode(d).metadata.name) if try(yamldecode(d).kind, null) != null
    ]]))
    error_message = "Every object in streams needs apiVersion, kind and metadata.name."
  }
}
