/* The C API (cmb/cmb.h): copy the first COUNT LBAs of SRC to every DST
 * through a CMB, with progress, and report each destination.
 *   copy_c COUNT SRC DST...      e.g. copy_c 32768 nvme1:1 nvme2:1 nvme3:1 */
#include <cmb/cmb.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  struct cmb_system *sys;
  struct cmb_copier *c;
  struct cmb_completion done;
  uint64_t id;
  if (argc < 4) return fprintf(stderr, "usage: %s COUNT SRC DST...\n", argv[0]), 2;
  struct cmb_extent e = {.src_lba = 0, .dst_lba = 0, .count = strtoull(argv[1], NULL, 0)};
  if (cmb_discover(&sys) < 0 ||
      cmb_copier_open(sys, argv[2], (const char *const *)argv + 3, (unsigned)(argc - 3), NULL, &c) < 0)
    return fprintf(stderr, "copy_c: %s\n", cmb_last_error()), 1;
  printf("plan: %s\n", cmb_copier_plan(c));
  if (cmb_copier_submit(c, &e, 1, &id) < 0 || cmb_copier_wait(c, id, -1, &done) < 0)
    return fprintf(stderr, "copy_c: %s\n", cmb_copier_error(c)), 1;
  for (unsigned i = 0; i < done.ndst; ++i)
    printf("%s: %llu bytes%s%s\n", done.dsts[i].name, (unsigned long long)done.dsts[i].prefix_bytes,
           done.dsts[i].status ? ", failed: " : "", done.dsts[i].error);
  cmb_copier_close(c);
  cmb_system_free(sys);
  return done.status == 0 ? 0 : 1;
}
