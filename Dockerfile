# Kong 3.9 with the guard-ai plugin. Stage 1 builds libguard.so on the Kong image's distribution
# (Ubuntu 24.04) so its shared-library dependencies match; stage 2 adds the .so and the Lua modules.
FROM ubuntu:24.04 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libhyperscan-dev libhiredis-dev libcurl4-openssl-dev rapidjson-dev \
      libabsl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY libguard libguard
COPY schema schema
COPY bench/CMakeLists.txt bench/CMakeLists.txt
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGUARD_BUILD_TESTS=OFF -DGUARD_BUILD_BENCH=OFF \
 && cmake --build build -j"$(nproc)" --target guard

FROM kong:3.9
USER root
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhyperscan5 libhiredis1.1.0 libcurl4t64 \
      libabsl20220623t64 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/libguard.so /usr/local/lib/lua/5.1/libguard.so
COPY kong-plugin/kong/plugins/guard-ai /usr/local/share/lua/5.1/kong/plugins/guard-ai
ENV KONG_PLUGINS=bundled,guard-ai
USER kong
