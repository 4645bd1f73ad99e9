terraform {
  required_version = ">= 1.6.0"

  required_providers {
    # The one provider for Kubernetes objects: it needs neither the API nor the
    # CRDs at plan time, so a stage can create a HelmChart and later stages the
    # objects of the CRDs that chart installs.
    kubectl = {
      source  = "gavinbunney/kubectl"
      version = "1.19.0"
    }
  }
}

provider "kubectl" {
  config_path      = var.kubeconfig_path
  load_config_file = true
  # CRDs installed by a HelmChart appear a little after the chart is created
  # (K3s's Helm controller runs a Job); retry instead of failing the stage.
  apply_retry_count = 8
}
