# broken on line 3
service_mesh = "cilium"
domain = "example.org
storage_backend = "local-path"
