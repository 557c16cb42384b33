/*
 * libFuzzer target for selfvirt-nic, for QEMU's fuzzing framework
 * (configure --enable-fuzzing; the overlay adds it to tests/qtest/fuzz).
 *
 * QEMU's generic-fuzz reaches only MMIO, not the RAM-backed SDRAM BAR
 * that holds the send queues, nor the wire.  This target turns its input
 * into register writes and reads, SDRAM writes (descriptors, frames,
 * indexes), frames from the wire and, to get there sooner, well-formed
 * VIF creations.  The board runs with x-engines-inline=on: every input
 * does the same each time, so a crash input replays.  After each input
 * the machine is reset and what it wrote of the SDRAM cleared (a reset
 * keeps RAM; the board writes no more of it than the control blocks).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/sockets.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "tests/qtest/fuzz/fuzz.h"
#include "hw/net/selfvirt/selfvirt_abi.h"

#define FUZZ_SDRAM_SIZE (16 << 20)
#define FUZZ_VIFS       4
#define FUZZ_RQ_BASE    0x1000000ull     /* receive queues in guest RAM */

enum selfvirt_fuzz_op {
    OP_CSR_WRITE,
    OP_CSR_READ,
    OP_SDRAM_WRITE,         /* up to 255 bytes of the input */
    OP_WIRE_FRAME,          /* up to 255 bytes of the input, from the wire */
    OP_CREATE_VIF,          /* a valid CREATE for VIF arg % vifs */
    OP_COUNT
};

typedef struct QEMU_PACKED {
    uint8_t op;
    uint8_t len;            /* bytes that follow, for SDRAM and wire */
    uint16_t arg;
    uint32_t off;
    uint32_t val;
} SelfvirtFuzzOp;

static int wire[2] = { -1, -1 };

/* the SDRAM an input wrote, cleared after it: a reset keeps RAM */
static GArray *sdram_written;

typedef struct {
    uint32_t off, len;
} SdramRange;

static void sdram_clear(QPCIDevice *dev, QPCIBar sdram)
{
    static const uint8_t zero[256];

    for (guint i = 0; i < sdram_written->len; i++) {
        SdramRange *r = &g_array_index(sdram_written, SdramRange, i);

        qpci_memwrite(dev, sdram, r->off, zero, r->len);
    }
    g_array_set_size(sdram_written, 0);
}

static void wire_drain(void)
{
    uint8_t buf[4096];

    while (recv(wire[0], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
        /* the board's frames to the wire: not looked at */
    }
}

static void create_vif(QTestState *s, QPCIDevice *dev, QPCIBar csr,
                       uint32_t v)
{
    uint32_t args[6] = {
        v, 0, 0, SELFVIRT_QUEUES(16, 16), SELFVIRT_WINDOWS(v, 1), 2048,
    };

    qpci_io_writel(dev, csr, SELFVIRT_REG_WIN_HI(v), 0);
    qpci_io_writel(dev, csr, SELFVIRT_REG_WIN_LO(v),
                   (FUZZ_RQ_BASE + v * 0x100000) | SELFVIRT_WIN_VALID);
    for (int i = 0; i < 6; i++) {
        qpci_io_writel(dev, csr, SELFVIRT_REG_MBOX_ARG(i), args[i]);
    }
    qpci_io_writel(dev, csr, SELFVIRT_REG_MBOX_CMD, SELFVIRT_CMD_VIF_CREATE);
}

static void selfvirt_fuzz(QTestState *s, const unsigned char *data,
                          size_t size)
{
    QPCIBus *bus = qpci_new_pc(s, NULL);
    QPCIDevice *dev = qpci_device_find(bus, QPCI_DEVFN(4, 0));
    QPCIBar csr, sdram;
    SelfvirtFuzzOp a;

    g_assert(dev);
    qpci_device_enable(dev);
    csr = qpci_iomap(dev, SELFVIRT_BAR_CSR, NULL);
    sdram = qpci_iomap(dev, SELFVIRT_BAR_SDRAM, NULL);
    while (size >= sizeof(a)) {
        uint32_t n;

        memcpy(&a, data, sizeof(a));
        data += sizeof(a);
        size -= sizeof(a);
        n = MIN(a.len, size);
        switch (a.op % OP_COUNT) {
        case OP_CSR_WRITE:
            qpci_io_writel(dev, csr, (a.off % SELFVIRT_CSR_SIZE) & ~3u, a.val);
            break;
        case OP_CSR_READ:
            qpci_io_readl(dev, csr, (a.off % SELFVIRT_CSR_SIZE) & ~3u);
            break;
        case OP_SDRAM_WRITE: {
            SdramRange r = { a.off % (FUZZ_SDRAM_SIZE - 256), n };

            qpci_memwrite(dev, sdram, r.off, data, n);
            g_array_append_val(sdram_written, r);
            data += n;
            size -= n;
            break;
        }
        case OP_WIRE_FRAME: {
            uint32_t be = htonl(n);

            /* a full socket may cut the frame short: the netdev copes */
            if (send(wire[0], &be, 4, MSG_DONTWAIT) == 4 &&
                send(wire[0], data, n, MSG_DONTWAIT) < 0) {
                /* lost, as on a wire */
            }
            data += n;
            size -= n;
            break;
        }
        case OP_CREATE_VIF:
            create_vif(s, dev, csr, a.arg % FUZZ_VIFS);
            break;
        }
        flush_events(s);
        wire_drain();
    }
    sdram_clear(dev, sdram);
    qpci_iounmap(dev, csr);
    qpci_iounmap(dev, sdram);
    g_free(dev);
    qpci_free_pc(bus);
    fuzz_reset(s);
    wire_drain();
}

static GString *selfvirt_fuzz_cmdline(FuzzTarget *t)
{
    GString *cmd = g_string_new(NULL);

    sdram_written = g_array_new(false, false, sizeof(SdramRange));
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, wire), ==, 0);
    g_string_printf(cmd, "%s -machine pc,accel=qtest -m 64M -display none "
                    "-nodefaults -netdev socket,fd=%d,id=wire "
                    "-device selfvirt-nic,netdev=wire,addr=04.0,vifs=%d,"
                    "sdram-size=%d,x-engines-inline=on", TARGET_NAME,
                    wire[1], FUZZ_VIFS, FUZZ_SDRAM_SIZE);
    return cmd;
}

static void register_selfvirt_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "selfvirt-nic-fuzz",
        .description = "Fuzz selfvirt-nic: registers, the SDRAM send "
                       "queues and frames from the wire, engines inline",
        .get_init_cmdline = selfvirt_fuzz_cmdline,
        .fuzz = selfvirt_fuzz,
    });
}

fuzz_target_init(register_selfvirt_fuzz_targets);
