{
  "targets": [
    {
      "target_name": "webmon_shm",
      "sources": ["webmon_shm.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
