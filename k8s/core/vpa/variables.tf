variable "vpa_update_mode" {
  description = "updateMode the PoC services use; Off needs only the recommender."
  type        = string
  validation {
    condition     = contains(["Off", "Initial", "Recreate", "InPlaceOrRecreate", "Auto"], var.vpa_update_mode)
    error_message = "vpa_update_mode must be Off, Initial, Recreate, InPlaceOrRecreate or Auto."
  }
}
