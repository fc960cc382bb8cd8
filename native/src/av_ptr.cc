#include "av_ptr.h"

#include <unistd.h>

namespace fieldcast {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

}  // namespace fieldcast
