-- The FFI declarations must be exactly the C header's: a drifted struct layout would corrupt memory
-- silently. This compares the token streams of guard.h (preprocessed by hand: comments, #defines,
-- C++-only blocks and GUARD_API removed) and of the cdef string.
local cdefs = require "kong.plugins.guard-ai.cdefs"

local root = os.getenv("GUARD_ROOT") or "."

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function strip_comments(s)
  return (s:gsub("/%*.-%*/", " "):gsub("//[^\n]*", " "))
end

-- Returns the header's declarations (as text) and its numeric #defines.
local function preprocess(header)
  local defines, lines, skip = {}, {}, 0
  for line in strip_comments(header):gmatch("[^\n]*") do
    local directive = line:match("^%s*#%s*(%w+)")
    if directive then
      if line:match("^%s*#%s*ifdef%s+__cplusplus") then
        skip = 1
      elseif skip > 0 and directive == "endif" then
        skip = 0
      end
      local name, value = line:match("^%s*#%s*define%s+([%w_]+)%s+(%S+)")
      if name and value:match("^%d") then
        defines[name] = tonumber((value:gsub("[uU]$", "")))
      end
    elseif skip == 0 then
      lines[#lines + 1] = line
    end
  end
  local text = table.concat(lines, "\n")
  for name, value in pairs(defines) do
    text = text:gsub("%f[%w_]" .. name .. "%f[^%w_]", tostring(value))
  end
  text = text:gsub("%f[%w_]GUARD_API%f[^%w_]", "")
  return text, defines
end

local function tokens(s)
  local out = {}
  for tok in strip_comments(s):gmatch("[%w_]+") do
    out[#out + 1] = tok
  end
  -- punctuation matters too (pointers, array brackets)
  local punct = {}
  for p in strip_comments(s):gmatch("[%*%[%]%(%){};,=]") do
    punct[#punct + 1] = p
  end
  return table.concat(out, " ") .. " | " .. table.concat(punct)
end

describe("cdefs.lua", function()
  local header_text, defines = preprocess(read(root .. "/libguard/include/guard.h"))

  it("declares exactly what guard.h declares", function()
    assert.are.equal(tokens(header_text), tokens(cdefs.cdef))
  end)

  it("carries the header's #define constants it uses", function()
    for name, value in pairs(cdefs.constants) do
      assert.are.equal(defines[name], value, name)
    end
    assert.is_not_nil(defines.GUARD_REQ_BODY_TRUNCATED)
  end)

  it("loads libguard and reports its version", function()
    local ffi = require "ffi"
    assert.matches("^%d+%.%d+%.%d+$", ffi.string(cdefs.lib.guard_version()))
  end)
end)
