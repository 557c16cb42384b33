/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * selfvirt: the host-visible ABI of the self-virtualizing NIC.
 *
 * One header, included by the QEMU device model (hw/net/selfvirt/) and by
 * the Linux guest driver (guest-driver/).  Plain C: fixed-width types and
 * macros only.  All multi-byte values are little-endian.  docs/specs/
 * selfvirt.rst explains every register; the two must agree.
 *
 * Design after Raj, Ganev, Schwan, Xenidis: "Scalable I/O Virtualization
 * via Self-Virtualizing Devices" (IXP2400 NP behind a 21555 bridge).
 */
#ifndef SELFVIRT_ABI_H
#define SELFVIRT_ABI_H

#ifdef __KERNEL__
#include <linux/stddef.h>
#include <linux/types.h>
typedef __le16 selfvirt_le16;
typedef __le32 selfvirt_le32;
typedef __le64 selfvirt_le64;
#else
#include <stddef.h>
#include <stdint.h>
typedef uint16_t selfvirt_le16;     /* little-endian, as the kernel's __le16 */
typedef uint32_t selfvirt_le32;
typedef uint64_t selfvirt_le64;
#endif

/* Layout checks: each struct of the ABI has the size and offsets it says. */
#define SELFVIRT_ABI_ASSERT(cond)       _Static_assert(cond, #cond)

/*
 * PCI identity: the unregistered experimental range of
 * docs/specs/pci-ids.rst
 */
#define SELFVIRT_PCI_VENDOR_ID          0x1af4
#define SELFVIRT_PCI_DEVICE_ID          0x10f0
#define SELFVIRT_PCI_REVISION           0x01

#define SELFVIRT_BAR_CSR                0 /* registers, 16 KiB, MMIO */
#define SELFVIRT_BAR_DOORBELL           1 /* a doorbell page per VIF, MMIO */
#define SELFVIRT_BAR_SDRAM              2 /* board SDRAM, 64-bit prefetchable */
#define SELFVIRT_BAR_MSIX               4 /* MSI-X table, interrupt-mode=msix */
#define SELFVIRT_CSR_SIZE               0x4000

#define SELFVIRT_ID_MAGIC               0x53564e43  /* "CNVS" in memory */
#define SELFVIRT_ABI_VERSION            0x00010005  /* major << 16 | minor */
#define   SELFVIRT_ABI_MAJOR(v)         ((v) >> 16)  /* must match */

/* ---- CSR BAR: identity and capabilities (read-only) ---- */
#define SELFVIRT_REG_ID                 0x000
#define SELFVIRT_REG_VERSION            0x004
#define SELFVIRT_REG_CAPS               0x008
#define   SELFVIRT_CAP_MSIX            (1u << 0) /* MSI-X mode is active */
#define   SELFVIRT_CAP_TX_CSUM         (1u << 1) /* transmit checksum offload */
#define   SELFVIRT_CAP_TSO             (1u << 2) /* TCP segmentation offload */
#define   SELFVIRT_CAP_RX_CSUM         (1u << 3) /* receive checksum verified */
#define   SELFVIRT_CAP_JUMBO           (1u << 4) /* frames up to MAX_FRAME */
#define   SELFVIRT_CAP_NIC_MODE        (1u << 5) /* plain NIC mode supported */
#define   SELFVIRT_CAP_RX_CHAIN        (1u << 6) /* SELFVIRT_ATTR_RX_CHAIN */
#define   SELFVIRT_CAP_DOORBELL_PAGES  (1u << 7) /* SELFVIRT_BAR_DOORBELL */
#define   SELFVIRT_CAP_SIGNAL_GAP      (1u << 8) /* SELFVIRT_ATTR_SIGNAL_GAP */
#define   SELFVIRT_CAP_RX_POSTED       (1u << 9) /* SELFVIRT_ATTR_RX_POSTED */
#define SELFVIRT_REG_MAX_VIFS           0x00c
#define SELFVIRT_REG_ENGINES            0x010
#define   SELFVIRT_ENGINES(count, ctx) \
    ((uint32_t)(count) | (uint32_t)(ctx) << 8)
#define   SELFVIRT_ENGINES_COUNT(v)     ((v) & 0xff)         /* micro-engines */
#define   SELFVIRT_ENGINES_CONTEXTS(v)  (((v) >> 8) & 0xff)  /* per engine */
#define SELFVIRT_REG_SDRAM_SIZE_LO      0x014
#define SELFVIRT_REG_SDRAM_SIZE_HI      0x018
#define SELFVIRT_REG_WIN_INFO           0x01c
#define   SELFVIRT_WIN_INFO(entries, min_shift, max_shift) \
    ((uint32_t)(entries) | (uint32_t)(min_shift) << 8 | \
     (uint32_t)(max_shift) << 16)
#define   SELFVIRT_WIN_INFO_ENTRIES(v)  ((v) & 0xff)
#define   SELFVIRT_WIN_INFO_MIN_SHIFT(v) (((v) >> 8) & 0xff)
#define   SELFVIRT_WIN_INFO_MAX_SHIFT(v) (((v) >> 16) & 0xff)
#define SELFVIRT_REG_IRQ_INFO           0x020
#define   SELFVIRT_IRQ_INFO(width, mode) \
    ((uint32_t)(width) | (uint32_t)(mode) << 8)
#define   SELFVIRT_IRQ_INFO_WIDTH(v)    ((v) & 0x1f)  /* identifier bits */
#define   SELFVIRT_IRQ_INFO_MODE(v)     (((v) >> 8) & 0x3)
/*
 * Writing IRQ_INFO sets the identifier width the board uses, 1 up to its
 * irq-id-width property (reset value); the mode bits are read-only.
 * Refused (csr_refused) while any VIF exists: the bits would move under it.
 */
#define   SELFVIRT_IRQ_MODE_IDENTIFIER  0
#define   SELFVIRT_IRQ_MODE_MSIX        1
#define SELFVIRT_REG_MAX_FRAME          0x024  /* bytes, without FCS */
#define SELFVIRT_REG_MAC_LO             0x028  /* base MAC, bytes 0..3 */
#define SELFVIRT_REG_MAC_HI             0x02c  /* base MAC, bytes 4..5 */
#define SELFVIRT_REG_PART_SIZE          0x030  /* SDRAM partition per VIF */
#define   SELFVIRT_PART_ALIGN           4096   /* whole pages: mmap-able */

/* ---- CSR BAR: control ---- */
#define SELFVIRT_REG_DEV_CTRL           0x040
#define   SELFVIRT_DEV_CTRL_RESET       (1u << 0)  /* write 1: board reset */
#define SELFVIRT_REG_DEV_STATUS         0x044
#define   SELFVIRT_DEV_STATUS_READY     (1u << 0)
#define   SELFVIRT_DEV_STATUS_NIC_MODE  (1u << 1)
#define   SELFVIRT_DEV_STATUS_PROMISC   (1u << 2)

/* ---- CSR BAR: the interrupt identifier ---- */
/* pending bits, write 1 to clear */
#define SELFVIRT_REG_IRQ_ID             0x050
#define SELFVIRT_REG_IRQ_MASK           0x054  /* 1 = bit masked; reset: all */
#define SELFVIRT_REG_IRQ_PENDING        0x058  /* ID & ~MASK: drives the line */
#define   SELFVIRT_IRQ_ID_BITS          16     /* the widest identifier */

/*
 * VIF i signals on identifier bit (2 * i) mod width (transmit done) and
 * (2 * i + 1) mod width (packet received): with width 16 and more than 8
 * VIFs, VIF i shares its bits with VIF i + 8, i + 16, ... as in the paper.
 */
#define SELFVIRT_IRQ_TX_BIT(vif, width) ((2u * (vif)) % (width))
#define SELFVIRT_IRQ_RX_BIT(vif, width) ((2u * (vif) + 1) % (width))
/* MSI-X mode: one vector per VIF signal, then one for the mailbox */
#define SELFVIRT_MSIX_TX_VEC(vif)       (2u * (vif))
#define SELFVIRT_MSIX_RX_VEC(vif)       (2u * (vif) + 1)
#define SELFVIRT_MSIX_MBOX_VEC(max_vifs) (2u * (max_vifs))

/* ---- CSR BAR: host window (upstream lookup) table ---- */
#define SELFVIRT_REG_WIN_PAGE_SHIFT     0x060  /* log2 page size, 8..25 */
#define SELFVIRT_REG_DOORBELL           0x064  /* write VIF index: wake it */

/*
 * ---- Doorbell BAR: one page per VIF ----
 *
 * A write of any value anywhere in page v is DOORBELL = v.  A page names
 * its VIF, so management can map one VIF's page into a VM, which can then
 * ring its own VIF, and no other, without a trap into management.
 */
#define SELFVIRT_DOORBELL_PAGE_SIZE     0x1000
#define SELFVIRT_DOORBELL_PAGE(vif) \
    ((uint64_t)(vif) * SELFVIRT_DOORBELL_PAGE_SIZE)
#define SELFVIRT_DOORBELL_BAR_SIZE \
    SELFVIRT_DOORBELL_PAGE(SELFVIRT_WIN_ENTRIES)

/* ---- CSR BAR: management mailbox (the XScale core) ---- */
#define SELFVIRT_REG_MBOX_CMD           0x080  /* writing it runs the command */
#define SELFVIRT_REG_MBOX_STATUS        0x084
#define   SELFVIRT_MBOX_STATUS_CODE(v)  ((v) & 0xffff)
#define   SELFVIRT_MBOX_STATUS_DONE     (1u << 31)
#define SELFVIRT_REG_MBOX_ARG(n)        (0x090 + 4 * (n))  /* n = 0..7 */
#define SELFVIRT_REG_MBOX_RES(n)        (0x0b0 + 4 * (n))  /* n = 0..7 */
#define SELFVIRT_MBOX_NARGS             8

/* ---- CSR BAR: board statistics (read-only, 32-bit, wrap) ---- */
#define SELFVIRT_REG_STAT(n)            (0x100 + 4 * (n))
/*
 * The board's counters, in register order: X(ID, "name").  The one list
 * that the device, the driver (sysfs, devlink) and the tests expand.
 */
#define SELFVIRT_BOARD_STATS(X) \
    X(WIRE_RX_FRAMES, "wire_rx_frames"),  /* frames from the port */ \
    X(WIRE_TX_FRAMES, "wire_tx_frames"),  /* frames to the port */ \
    X(WIRE_RX_NO_VIF, "wire_rx_no_vif"),  /* unicast no VIF owns */ \
    X(SWITCH_LOCAL, "switch_local"),      /* VIF-to-VIF, on the board */ \
    X(WIN_ABORTS, "win_aborts"),          /* upstream master aborts */ \
    X(BAD_DESC, "bad_desc"),              /* malformed send descriptors */ \
    X(DOORBELLS, "doorbells"),            /* doorbell writes */ \
    X(ENGINE_WAKEUPS, "engine_wakeups"),  /* micro-engine wake-ups */ \
    X(IRQS, "irqs"),                      /* master interrupts, messages */ \
    X(MBOX_CMDS, "mbox_cmds"),            /* mailbox commands run */ \
    X(CSR_READS, "csr_reads"),            /* host CSR reads (slow on PCI) */ \
    X(RX_COALESCED, "rx_coalesced"),      /* TCP segments merged */ \
    X(TX_SPOOFED, "tx_spoofed"),          /* another VIF's source MAC */ \
    X(CSR_REFUSED, "csr_refused"),        /* writes refused for now */ \
    X(INLINE_SQUEEZED, "inline_squeezed"), /* inline turns out of budget */ \
    X(WIRE_RX_GSO, "wire_rx_gso"),        /* GSO frames taken whole */ \
    X(WIRE_TX_GSO, "wire_tx_gso"),        /* TSO frames sent whole */ \
    X(WIRE_RX_BAD_HDR, "wire_rx_bad_hdr"), /* bad virtio-net headers */ \
    X(DOORBELL_EVENTFDS, "doorbell_eventfds"), /* doorbells, KVM ioeventfd */ \
    X(IRQFDS, "irqfds"),                  /* messages sent by KVM irqfd */

#define SELFVIRT_STAT_ENUM(id, name)    SELFVIRT_STAT_##id
enum selfvirt_board_stat {
    SELFVIRT_BOARD_STATS(SELFVIRT_STAT_ENUM)
    SELFVIRT_STAT_COUNT
};
#undef SELFVIRT_STAT_ENUM

#define SELFVIRT_REG_WIN_BASE           0x400  /* 64 entries x 8 bytes */
#define SELFVIRT_REG_WIN_LO(n)          (SELFVIRT_REG_WIN_BASE + 8 * (n))
#define SELFVIRT_REG_WIN_HI(n)          (SELFVIRT_REG_WIN_BASE + 8 * (n) + 4)
#define   SELFVIRT_WIN_VALID            (1u << 0)  /* in WIN_LO */
#define SELFVIRT_WIN_ENTRIES            64
#define SELFVIRT_WIN_MIN_SHIFT          8          /* 256 B, as the 21555 */
#define SELFVIRT_WIN_MAX_SHIFT          25         /* 32 MiB */

/* ---- Mailbox commands: ARG/RES words; status codes below ---- */
enum selfvirt_mbox_cmd {
    SELFVIRT_CMD_RESET = 1,       /* destroy all VIFs, plain defaults */
    /* RES0 active VIF bitmap 0..31, RES1 bitmap 32..63, RES2 mode */
    SELFVIRT_CMD_QUERY = 2,
    SELFVIRT_CMD_VIF_CREATE = 3,  /* see SELFVIRT_CREATE_* */
    SELFVIRT_CMD_VIF_DESTROY = 4, /* ARG0 vif; quiesced on return */
    SELFVIRT_CMD_VIF_SET = 5,     /* ARG0 vif, ARG1 attr, ARG2.. value */
    SELFVIRT_CMD_VIF_STATS = 6,   /* ARG0 vif: RES0..7 = selfvirt_vif_stat */
    SELFVIRT_CMD_SET_MODE = 7,    /* ARG0 selfvirt_mode, ARG1 bit0 promisc */
    SELFVIRT_CMD_VIF_STATUS = 8,  /* ARG0 vif: see SELFVIRT_VIF_STATUS_* */
};

/*
 * VIF_STATUS: RES0 SELFVIRT_VIF_HALTED if the board halted the VIF's send
 * queue, RES1 why (selfvirt_halt_reason), RES2 tx_cons at the halt (the
 * descriptor's index), RES3..RES6 that descriptor's four words as posted
 * (buf, len, flags | mss << 16, reserved).  Setting the VIF's queues
 * (SELFVIRT_ATTR_QUEUES) restarts it.
 */
#define SELFVIRT_VIF_HALTED             (1u << 0)
enum selfvirt_halt_reason {
    SELFVIRT_HALT_NONE = 0,
    SELFVIRT_HALT_PROD_AHEAD = 1,   /* tx_prod more than a ring ahead */
    SELFVIRT_HALT_BAD_DESC = 2,     /* buf/len/flags/mss out of range */
};

/*
 * CREATE: ARG0 vif index (or SELFVIRT_VIF_ANY), ARG1/ARG2 MAC bytes 0..3 /
 * 4..5 (both 0: base MAC + vif), ARG3 send entries [15:0] receive entries
 * [31:16] (powers of two), ARG4 first window [7:0] window count [15:8],
 * ARG5 receive buffer size in bytes.  RES0 vif, RES1 SDRAM offset of its
 * partition, RES2 partition size, RES3/RES4 MAC.
 */
#define SELFVIRT_VIF_ANY                0xffffffffu
#define SELFVIRT_QUEUE_MIN              4
#define SELFVIRT_QUEUE_MAX              4096
/* CREATE ARG3, ATTR_QUEUES ARG2: send and receive entries */
#define SELFVIRT_QUEUES(tx, rx)         ((uint32_t)(tx) | (uint32_t)(rx) << 16)
#define SELFVIRT_QUEUES_TX(v)           ((v) & 0xffff)
#define SELFVIRT_QUEUES_RX(v)           ((v) >> 16)
/* CREATE ARG4: the VIF's range of window entries */
#define SELFVIRT_WINDOWS(first, count) \
    ((uint32_t)(first) | (uint32_t)(count) << 8)
#define SELFVIRT_WINDOWS_FIRST(v)       ((v) & 0xff)
#define SELFVIRT_WINDOWS_COUNT(v)       (((v) >> 8) & 0xff)
/* CREATE ARG5, ATTR_QUEUES ARG3: receive buffer bytes */
#define SELFVIRT_RX_BUF_MIN             1536
#define SELFVIRT_RX_BUF_MAX             65536
#define SELFVIRT_RX_BUF_ALIGN           64
/* QUERY RES2 */
#define SELFVIRT_QUERY_MODE(v)          ((v) & 0xff)
#define SELFVIRT_QUERY_PROMISC          (1u << 8)

enum selfvirt_vif_attr {
    SELFVIRT_ATTR_MAC = 1,          /* ARG2 bytes 0..3, ARG3 bytes 4..5 */
    SELFVIRT_ATTR_SIGNALS = 2,      /* ARG2: SELFVIRT_SIGNAL_* enables */
    SELFVIRT_ATTR_RATE = 3,         /* ARG2: Mbit/s on egress, 0 = none */
    SELFVIRT_ATTR_WEIGHT = 4,       /* ARG2: frames per egress turn */
    SELFVIRT_ATTR_QUEUES = 5,       /* ARG2 as CREATE ARG3; rings reset */
    /*
     * ARG2: receive slots one frame may span, 1..SELFVIRT_RX_CHAIN_MAX (and
     * at most the ring); ARG3: SELFVIRT_RX_COALESCE_*
     */
    SELFVIRT_ATTR_RX_CHAIN = 6,
    SELFVIRT_ATTR_SPOOF_CHECK = 7,  /* ARG2: 1 = only its own source MAC */
    /*
     * ARG2: microseconds from one signal of a kind to the next, 0 = at once;
     * one within the gap waits for its end
     */
    SELFVIRT_ATTR_SIGNAL_GAP = 8,
    /*
     * ARG2: 1 = the host posts each receive slot's buffer in the slot's
     * descriptor (selfvirt_rx_desc.buf), so that it can hand filled
     * buffers to its stack and post others; 0 = slot i's buffer is at
     * SELFVIRT_RQ_SLOT, the paper's ring (as after CREATE)
     */
    SELFVIRT_ATTR_RX_POSTED = 9,
};
#define SELFVIRT_RX_CHAIN_MAX           32
#define SELFVIRT_WEIGHT_MAX             256     /* ATTR_WEIGHT: 1..this */
#define SELFVIRT_RATE_MAX_MBPS          100000  /* ATTR_RATE: 0..this */
#define SELFVIRT_SIGNAL_GAP_MAX_US      10000   /* ATTR_SIGNAL_GAP: 0..this */
#define SELFVIRT_RX_COALESCE_TCP        (1u << 0)  /* merge TCP segments */
#define SELFVIRT_SIGNAL_TX              (1u << 0)
#define SELFVIRT_SIGNAL_RX              (1u << 1)

/* VIF_STATS RES0..7, X(ID, "name"), as SELFVIRT_BOARD_STATS */
#define SELFVIRT_VIF_STATS(X) \
    X(TX_FRAMES, "tx_frames"), \
    X(TX_BYTES, "tx_bytes"), \
    X(RX_FRAMES, "rx_frames"), \
    X(RX_BYTES, "rx_bytes"), \
    X(RX_DROPS, "rx_drops"),              /* the VIF took no more */ \
    X(TX_ERRORS, "tx_errors"),            /* refused: malformed, spoofed */ \
    X(WIN_ABORTS, "win_aborts"),          /* upstream writes aborted */ \
    X(SIGNALS, "signals"),                /* signals raised */

#define SELFVIRT_VSTAT_ENUM(id, name)   SELFVIRT_VSTAT_##id
enum selfvirt_vif_stat {
    SELFVIRT_VIF_STATS(SELFVIRT_VSTAT_ENUM)
    SELFVIRT_VSTAT_COUNT
};
#undef SELFVIRT_VSTAT_ENUM
SELFVIRT_ABI_ASSERT(SELFVIRT_VSTAT_COUNT <= SELFVIRT_MBOX_NARGS);

enum selfvirt_mode {
    SELFVIRT_MODE_SELF_VIRT = 0,    /* many VIFs, on-board switch */
    SELFVIRT_MODE_NIC = 1,          /* one queue pair (VIF 0), base MAC */
};

enum selfvirt_status {
    SELFVIRT_ST_OK = 0,
    SELFVIRT_ST_BAD_CMD = 1,        /* unknown command */
    SELFVIRT_ST_NO_VIF = 2,         /* no such VIF, or not created */
    SELFVIRT_ST_NO_RESOURCES = 3,   /* no free VIF slot */
    SELFVIRT_ST_BAD_ARG = 4,        /* argument out of range */
    SELFVIRT_ST_EXISTS = 5,         /* VIF slot already in use */
    SELFVIRT_ST_WRONG_MODE = 6,     /* not allowed in the current mode */
};

/* ---- Send queue: in the VIF's SDRAM partition, written by the host ---- */
struct selfvirt_sq_ctrl {
    selfvirt_le32 tx_prod;  /* free-running count of posted descriptors */
    selfvirt_le32 rx_cons;  /* free-running count of consumed rx slots */
    selfvirt_le32 signal_enable; /* SELFVIRT_SIGNAL_*: driver's moderation */
    selfvirt_le32 reserved[13];
};
#define SELFVIRT_SQ_DESC_OFF            64
SELFVIRT_ABI_ASSERT(sizeof(struct selfvirt_sq_ctrl) == SELFVIRT_SQ_DESC_OFF);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_sq_ctrl, rx_cons) == 4);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_sq_ctrl, signal_enable) == 8);

struct selfvirt_tx_desc {
    selfvirt_le32 buf;      /* frame offset in the partition's data area */
    selfvirt_le32 len;      /* frame length; up to SELFVIRT_TSO_MAX_FRAME */
    selfvirt_le16 flags;    /* SELFVIRT_TX_* */
    selfvirt_le16 mss;      /* TSO segment size */
    selfvirt_le32 reserved;
};
SELFVIRT_ABI_ASSERT(sizeof(struct selfvirt_tx_desc) == 16);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_tx_desc, len) == 4);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_tx_desc, flags) == 8);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_tx_desc, mss) == 10);
#define SELFVIRT_TX_CSUM                (1u << 0)  /* fill in the L4 checksum */
#define SELFVIRT_TX_TSO                 (1u << 1)  /* unicast TCP: cut at mss */
#define SELFVIRT_TX_FLAGS               (SELFVIRT_TX_CSUM | SELFVIRT_TX_TSO)
#define SELFVIRT_TSO_MSS_MIN            64
#define SELFVIRT_TSO_MSS_MAX            9000
#define SELFVIRT_TSO_MAX_FRAME          (65535 + 14)  /* IP datagram + L2 */

/* data area of the partition: after the descriptors, 64-byte aligned */
#define SELFVIRT_SQ_DATA_OFF(entries) \
    ((SELFVIRT_SQ_DESC_OFF + 16u * (entries) + 63u) & ~63u)
#define SELFVIRT_SQ_DESC(i)  (SELFVIRT_SQ_DESC_OFF + 16u * (i))  /* slot i */

/* ---- Receive queue: in host memory via the VIF's windows, device-written */
struct selfvirt_rq_status {
    selfvirt_le32 rx_prod;  /* free-running count of filled rx slots */
    selfvirt_le32 tx_cons;  /* free-running count of completed tx descs */
    selfvirt_le32 flags;    /* SELFVIRT_RQ_* */
    selfvirt_le32 reserved[13];
};
#define SELFVIRT_RQ_EGRESS_ASLEEP       (1u << 0) /* ring DOORBELL to post */
#define SELFVIRT_RQ_RX_BLOCKED          (1u << 1) /* ring DOORBELL on rx_cons */
/* send queue halted: VIF_STATUS tells why */
#define SELFVIRT_RQ_HALTED              (1u << 2)
#define SELFVIRT_RQ_DESC_OFF            64
SELFVIRT_ABI_ASSERT(sizeof(struct selfvirt_rq_status) == SELFVIRT_RQ_DESC_OFF);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_rq_status, tx_cons) == 4);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_rq_status, flags) == 8);

/*
 * A frame takes one slot, or with SELFVIRT_ATTR_RX_CHAIN up to that many
 * consecutive slots: every slot but the last has SELFVIRT_RX_MORE, each
 * descriptor gives the bytes in its slot, and the first one carries the
 * frame's flags and gso_size.  rx_prod covers whole frames only.
 *
 * The board writes len, flags and gso_size, never buf.  With
 * SELFVIRT_ATTR_RX_POSTED the host writes buf before it hands the slot to
 * the board (rx_cons): a byte offset in the receive queue, a multiple of
 * SELFVIRT_RX_BUF_ALIGN, at or after SELFVIRT_RQ_DATA_OFF(entries).  The
 * board reads it when it fills the slot; a frame whose buf is out of those
 * bounds is dropped (rx_drops, the board's bad_desc).
 */
struct selfvirt_rx_desc {
    selfvirt_le32 len;      /* bytes of the frame in this slot */
    selfvirt_le16 flags;    /* SELFVIRT_RX_* */
    selfvirt_le16 gso_size; /* MSS of an unsegmented TCP frame, else 0 */
    selfvirt_le64 buf;      /* ATTR_RX_POSTED: the slot's buffer; host's */
};
SELFVIRT_ABI_ASSERT(sizeof(struct selfvirt_rx_desc) == 16);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_rx_desc, flags) == 4);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_rx_desc, gso_size) == 6);
SELFVIRT_ABI_ASSERT(offsetof(struct selfvirt_rx_desc, buf) == 8);
#define SELFVIRT_RX_CSUM_OK            (1u << 0) /* L4 checksum verified */
#define SELFVIRT_RX_GSO_TCPV4          (1u << 1) /* unsegmented, see gso_size */
#define SELFVIRT_RX_GSO_TCPV6          (1u << 2)
#define SELFVIRT_RX_MORE               (1u << 3) /* goes on in the next slot */

/* receive slots follow the descriptors; slot i at DATA_OFF + i * buf size */
#define SELFVIRT_RQ_DATA_OFF(entries) \
    ((SELFVIRT_RQ_DESC_OFF + 16u * (entries) + 63u) & ~63u)
#define SELFVIRT_RQ_DESC(i)  (SELFVIRT_RQ_DESC_OFF + 16u * (i))  /* slot i */
#define SELFVIRT_RQ_SLOT(entries, buf_size, i) \
    (SELFVIRT_RQ_DATA_OFF(entries) + (uint64_t)(buf_size) * (i))

/*
 * ---- The VIF function: one VIF as a PCI function of its own ----
 *
 * What a VM (an L2 guest) sees when the management driver hands it a VIF
 * as a VFIO mediated device (guest-driver/mdev.c).  Its send queue is the
 * VIF's SDRAM partition and its receive queue the VIF's ring, laid out as
 * above; only the register BAR is new, and its doorbell page is the
 * board's page for this VIF (SELFVIRT_BAR_DOORBELL).  One MSI vector
 * carries both of the VIF's signals.
 */
#define SELFVIRT_VIF_PCI_DEVICE_ID      0x10f1
#define SELFVIRT_VIF_BAR_REGS           0   /* registers below, trapped */
#define SELFVIRT_VIF_BAR_DOORBELL       1   /* the board's page, mmap-able */
#define SELFVIRT_VIF_BAR_SQ             2   /* the SDRAM partition, mmap-able */
#define SELFVIRT_VIF_BAR_RQ             4   /* the receive queue, read-only */
#define SELFVIRT_VIF_REGS_SIZE          0x1000

#define SELFVIRT_VIF_ID_MAGIC           0x46495653  /* "SVIF" in memory */
#define SELFVIRT_VIF_REG_ID             0x000
#define SELFVIRT_VIF_REG_VERSION        0x004  /* SELFVIRT_ABI_VERSION */
#define SELFVIRT_VIF_REG_CAPS           0x008  /* SELFVIRT_CAP_* offloads */
#define SELFVIRT_VIF_REG_QUEUES         0x00c  /* SELFVIRT_QUEUES(tx, rx) */
#define SELFVIRT_VIF_REG_RX_BUF         0x010  /* receive slot bytes */
#define SELFVIRT_VIF_REG_PART_SIZE      0x014  /* bytes of BAR_SQ in use */
#define SELFVIRT_VIF_REG_RQ_SIZE        0x018  /* bytes of BAR_RQ in use */
#define SELFVIRT_VIF_REG_MAX_FRAME      0x01c  /* bytes, without FCS */
#define SELFVIRT_VIF_REG_MAC_LO         0x020  /* bytes 0..3 */
#define SELFVIRT_VIF_REG_MAC_HI         0x024  /* bytes 4..5 */
#define SELFVIRT_VIF_REG_STATUS         0x028
#define   SELFVIRT_VIF_STATUS_LINK      (1u << 0)
#define SELFVIRT_VIF_REG_RX_CHAIN       0x02c  /* the board's ATTR_RX_CHAIN */
#define   SELFVIRT_VIF_RX_CHAIN_SLOTS(v) ((v) & 0xff) /* slots per frame */
#define   SELFVIRT_VIF_RX_COALESCE      (1u << 8)    /* TCP segments merged */
/* write any value: wake the VIF, as SELFVIRT_REG_DOORBELL */
#define SELFVIRT_VIF_REG_DOORBELL       0x040

#endif /* SELFVIRT_ABI_H */
