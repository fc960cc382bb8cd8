{
  "targets": [
    {
      "target_name": "fieldcast",
      # Every feature is a .h/.cc pair in src/; each registers its own exports
      # (see src/registry.h), so adding a feature is adding its files.
      "sources": ["<!@(ls -1 src/*.cc)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
                    "<!@(pkg-config --cflags libavcodec libavutil libswscale alsa srt libv4l2)"],
      "libraries": ["<!@(pkg-config --libs libavcodec libavutil libswscale alsa srt libv4l2)", "-lpthread"]
    }
  ]
}
