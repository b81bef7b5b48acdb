return {
  name = "echo-first",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
