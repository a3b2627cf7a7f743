{
  "targets": [
    {
      "target_name": "fd_passing",
      "sources": ["native/fd-passing.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "shared_zone",
      "sources": ["native/shared-zone.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
