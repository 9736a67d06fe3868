#include "cmb/page.h"

#include <unistd.h>

namespace cmb {

uint64_t PageBytes() {
  static const uint64_t kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return kPage;
}

}  // namespace cmb
