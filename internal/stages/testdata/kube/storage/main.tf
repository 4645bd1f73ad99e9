terraform {
  required_providers {
    kubectl = {
      source = "gavinbunney/kubectl"
    }
  }
}

variable "namespace" {
  type = string
}

resource "kubectl_manifest" "settings" {
  yaml_body = <<-YAML
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: storage-settings
      namespace: ${var.namespace}
    data:
      class: local-path
  YAML
}

resource "kubectl_manifest" "provisioner" {
  wait_for_rollout = false
  yaml_body        = <<-YAML
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: local-path-provisioner
      namespace: ${var.namespace}
    spec:
      replicas: 1
      selector:
        matchLabels: {app: local-path-provisioner}
      template:
        metadata:
          labels: {app: local-path-provisioner}
        spec:
          containers:
            - name: provisioner
              image: rancher/local-path-provisioner:v0.0.31
  YAML
}
