{
  "targets": [
    {
      "target_name": "fd_passing",
      "sources": ["native/fd-passing.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
