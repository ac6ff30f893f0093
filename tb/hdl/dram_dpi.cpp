// Device DRAM bytes for tb/hdl/axi_ram_dpi.v, shared with the Python test bench.
//
// The bytes are a file mapped into memory: the Python side (tb/device_dram.py)
// creates it and names it in NVME_COSIM_DRAM before the design's first DRAM
// access, and maps the same file, so the firmware model and the scoreboards
// reach the bytes the RTL moves without bus beats or simulated time.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "svdpi.h"

namespace {

uint8_t *dram = nullptr;
uint64_t dram_size = 0;

uint8_t *bytes_at(uint64_t addr, int count) {
    if (dram == nullptr) {
        const char *path = std::getenv("NVME_COSIM_DRAM");
        if (path == nullptr) {
            std::fprintf(stderr, "dram_dpi: NVME_COSIM_DRAM names no DRAM file\n");
            std::abort();
        }
        int fd = open(path, O_RDWR);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            std::perror("dram_dpi: open NVME_COSIM_DRAM");
            std::abort();
        }
        void *map = mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (map == MAP_FAILED) {
            std::perror("dram_dpi: mmap");
            std::abort();
        }
        dram = static_cast<uint8_t *>(map);
        dram_size = st.st_size;
    }
    if (addr + count > dram_size) {
        std::fprintf(stderr, "dram_dpi: access of %d bytes at 0x%llx beyond the DRAM's 0x%llx\n", count,
                     static_cast<unsigned long long>(addr), static_cast<unsigned long long>(dram_size));
        std::abort();
    }
    return dram + addr;
}

}  // namespace

extern "C" void nvme_cosim_dram_write(long long addr, const svBitVecVal *data, const svBitVecVal *strb,
                                      int bytes) {
    uint8_t *dst = bytes_at(addr, bytes);
    const uint8_t *src = reinterpret_cast<const uint8_t *>(data);   // little endian: word 0 holds byte 0
    for (int i = 0; i < bytes; i++) {
        if (strb[i / 32] >> (i % 32) & 1) {
            dst[i] = src[i];
        }
    }
}

extern "C" void nvme_cosim_dram_read(long long addr, svBitVecVal *data, int bytes) {
    std::memcpy(data, bytes_at(addr, bytes), bytes);
}
