{
  # Two addons. fieldcast.node: capture, encoders, the slate (the pipeline
  # process loads it). fieldcast_srt.node: SRT, sd_notify and the common core
  # (the supervisor loads only this one, so it never maps the capture and
  # encoder libraries). Every feature is a .h/.cc pair in src/; each registers
  # its own exports (src/registry.h), so adding a feature is adding its files
  # (and naming it in the SRT list when it belongs there).
  "variables": {
    "srt_sources": ["src/addon.cc", "src/common.cc", "src/sd_notify.cc", "src/srt_binding.cc", "src/srt_reject.cc", "src/srt_socket.cc", "src/udp_batch.cc"]
  },
  "target_defaults": {
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")"
    ],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    # Each addon keeps its own symbols (its feature registry among them): loaded
    # into one process, the two must not share one registry.
    "cflags": ["-fvisibility=hidden"]
  },
  "targets": [
    {
      "target_name": "fieldcast",
      "sources": ["<!@(ls -1 src/*.cc | grep -v -e '^src/srt_' -e '^src/sd_notify')"],
      "cflags_cc": ["-std=c++17", "-O2", "-fvisibility=hidden", "-fvisibility-inlines-hidden", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
                    "<!@(pkg-config --cflags libavcodec libavutil libswscale alsa libv4l2)"],
      "libraries": ["<!@(pkg-config --libs libavcodec libavutil libswscale alsa libv4l2)", "-lpthread"]
    },
    {
      "target_name": "fieldcast_srt",
      "sources": ["<@(srt_sources)"],
      "cflags_cc": ["-std=c++17", "-O2", "-fvisibility=hidden", "-fvisibility-inlines-hidden", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
                    "<!@(pkg-config --cflags srt)"],
      "libraries": ["<!@(pkg-config --libs srt)", "-lpthread"]
    }
  ]
}
