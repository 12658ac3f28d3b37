-- POST /upload with a 1 MiB body on every request.
wrk.method = "POST"
wrk.body = string.rep("x", 1048576)
