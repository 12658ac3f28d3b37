-- POST /api with a 1 KiB body on every request.
wrk.method = "POST"
wrk.body = string.rep("x", 1024)
