variable "vpa_update_mode" {
  description = "updateMode the PoC services use; Off needs only the recommender."
  type        = string
  validation {
    condition     = contains(["Off", "Initial", "Recreate", "Auto"], var.vpa_update_mode)
    error_message = "vpa_update_mode must be Off, Initial, Recreate or Auto (the installed VPA 1.4.1's CRD has no InPlaceOrRecreate)."
  }
}
