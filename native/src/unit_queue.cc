#include "unit_queue.h"

#include <algorithm>

namespace fieldcast {

bool UnitQueue::Schedule() {
  if (drain_pending_) return false;
  drain_pending_ = true;
  return true;
}

bool UnitQueue::PushUnit(OutItem&& item) {
  std::lock_guard<std::mutex> lock(mu_);
  if (item.video && skip_video_until_key_) {
    if (!item.key) {
      ++dropped_video_;
      return false;
    }
    skip_video_until_key_ = false;
  }
  units_ += 1;
  bytes_ += item.data.size();
  items_.push_back(std::move(item));
  while (units_ > max_units_ || bytes_ > max_bytes_) {
    // 1. every queued non-key video unit
    size_t removed = 0;
    for (auto it = items_.begin(); it != items_.end();) {
      if (it->kind == OutItem::Kind::kUnit && it->video && !it->key) {
        units_ -= 1;
        bytes_ -= it->data.size();
        it = items_.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
    if (removed > 0) {
      dropped_video_ += removed;
      skip_video_until_key_ = true;
      key_request_ = true;
      continue;
    }
    // 2. the oldest keyframe, 3. the oldest audio
    const bool has_video = std::any_of(items_.begin(), items_.end(),
                                       [](const OutItem& i) { return i.kind == OutItem::Kind::kUnit && i.video; });
    DropOldest(has_video);
  }
  return Schedule();
}

void UnitQueue::DropOldest(bool video) {
  for (auto it = items_.begin(); it != items_.end(); ++it) {
    if (it->kind == OutItem::Kind::kUnit && it->video == video) {
      units_ -= 1;
      bytes_ -= it->data.size();
      items_.erase(it);
      if (video) {
        ++dropped_video_;
        skip_video_until_key_ = true;
        key_request_ = true;
      } else {
        ++dropped_audio_;
      }
      return;
    }
  }
}

bool UnitQueue::PushControl(OutItem&& item) {
  std::lock_guard<std::mutex> lock(mu_);
  // Started, errors and ended always get through; only events are capped.
  if (item.kind == OutItem::Kind::kEvent && controls_ >= kMaxControl) return false;
  controls_ += 1;
  items_.push_back(std::move(item));
  return Schedule();
}

std::deque<OutItem> UnitQueue::TakeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<OutItem> out;
  out.swap(items_);
  units_ = bytes_ = controls_ = 0;
  drain_pending_ = false;
  return out;
}

size_t UnitQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return units_;
}

}  // namespace fieldcast
