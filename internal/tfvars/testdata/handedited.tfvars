# My homelab's answers. Hand-edited, please keep this comment.

# The operator's own variable, not migrate-tui's:
kubeconfig_path = "~/.kube/k3s-homelab.yaml" # where I keep it

service_mesh = "linkerd" # was linkerd before the wizard ran

/* a block comment
   spanning lines */
domain = "example.org"

enabled_stages = ["storage"]
unknown_key    = { a = 1, b = [true, false] }
