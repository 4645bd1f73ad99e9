# VPA from the autoscaler project, installed with the Fairwinds "vpa" chart as
# a K3s HelmChart. Why this chart rather than plain manifests: the upstream
# project ships no chart, and its admission controller needs a TLS Secret
# made at install time (the hand-run PoC hung until one was made by hand).
# The chart's certgen hook Job makes that Secret inside the cluster, so the
# key never passes through Terraform state, and the chart also carries the
# CRDs. The recommender always runs (metrics from K3s's metrics-server); the
# updater and the admission controller only when a mode other than Off
# would use them.
#
# The Fairwinds chart 4.8.0 ships VPA 1.4.1 (its appVersion: FairwindsOps/charts
# PR 1538 moved appVersion to 1.4.1 for 4.8.0; PR 1651 "4.8.x packages VPA
# 1.4.x"). Its bundled CRD (stable/vpa/crds/vpa-v1-crd.yaml, refreshed from
# upstream only in 4.11.0, PR 1786) knows the update modes Off, Initial,
# Recreate and Auto, not InPlaceOrRecreate, and VPA 1.4 keeps in-place
# updates behind the alpha InPlaceOrRecreate feature gate (off by default,
# pkg/features/versioned_features.go): vpa_update_mode offers only those
# four. hack/versions.env VPA_VERSION pins the test world's VPA (CRD and
# recommender) to app_version; a test keeps the two equal.
locals {
  chart_version = "4.8.0"
  app_version   = "1.4.1"
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
