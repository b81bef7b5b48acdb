-- localgw.echo: the built-in upstream for tests and benchmarks. Answers 200 with JSON
-- {"method","path","query","headers","body","body_encoding","body_length","body_md5"} describing exactly what it
-- received (path and query raw, body byte-exact), so tests can prove a request crossed the gateway intact.
-- A body that is not valid UTF-8 cannot travel in a JSON string: it comes base64-encoded, body_encoding "base64"
-- (otherwise "identity").
-- A request header "X-Echo-Status: NNN" makes it answer with that status instead of 200.

local cjson = require "cjson.safe"

local _M = {}

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local path = ngx.req.get_body_file()
  if not path then return "" end
  local f = assert(io.open(path, "rb"))
  body = f:read("*a")
  f:close()
  return body
end

function _M.handle()
  local body = read_body()
  local uri = ngx.var.request_uri or "/"
  local q = uri:find("?", 1, true)
  local headers = ngx.req.get_headers(1000)
  local status = tonumber(headers["x-echo-status"]) or 200
  -- PCRE in UTF-8 mode rejects an invalid subject: a cheap validity check for the whole body.
  local _, _, utf8_err = ngx.re.find(body, "^", "u")
  local encoding = utf8_err and "base64" or "identity"
  local out = cjson.encode({
    method = ngx.req.get_method(),
    path = q and uri:sub(1, q - 1) or uri,
    query = ngx.var.args or "",
    headers = headers,
    body = utf8_err and ngx.encode_base64(body) or body,
    body_encoding = encoding,
    body_length = #body,
    body_md5 = ngx.md5(body),
  })
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #out
  ngx.print(out)
end

return _M
