# VPA from the autoscaler project, installed with the Fairwinds "vpa" chart as
# a K3s HelmChart. Why this chart rather than plain manifests: the upstream
# project ships no chart, and its admission controller needs a TLS Secret
# made at install time (the hand-run PoC hung until one was made by hand).
# The chart's certgen hook Job makes that Secret inside the cluster, so the
# key never passes through Terraform state, and the chart also carries the
# CRDs. The recommender always runs (metrics from K3s's metrics-server); the
# updater and the admission controller only when a mode other than Off
# would use them.
locals {
  chart_version = "4.8.0"
  acts          = var.vpa_update_mode != "Off"

  rendered = [templatefile("${path.module}/manifests/vpa.yaml", {
    version = local.chart_version
    acts    = local.acts
  })]
}

module "apply" {
  source  = "../../apply"
  streams = local.rendered
}
