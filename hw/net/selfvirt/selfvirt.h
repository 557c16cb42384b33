/*
 * selfvirt: a self-virtualizing NIC (IXP2400 NP board behind a 21555 bridge)
 *
 * Internal state shared by the files of the model, one per part of the
 * board: selfvirt.c (PCI glue, CSR dispatch), selfvirt_window.c (host
 * window table), selfvirt_irq.c (interrupt identifier, MSI-X),
 * selfvirt_mbox.c (management, the XScale core), selfvirt_engines.c
 * (micro-engines), selfvirt_switch.c (the layer-2 switch) and
 * selfvirt_coalesce.c (receive coalescing).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_H
#define HW_NET_SELFVIRT_H

#include "hw/pci/pci_device.h"
#include "net/eth.h"
#include "net/net.h"
#include "qemu/queue.h"
#include "qemu/units.h"
#include "qemu/thread.h"
#include "qom/object.h"
#include "system/runstate.h"
#include "selfvirt_abi.h"
#include "selfvirt_rate.h"

#define TYPE_SELFVIRT_NIC "selfvirt-nic"
OBJECT_DECLARE_SIMPLE_TYPE(SelfvirtState, SELFVIRT_NIC)

#define SELFVIRT_MAX_VIFS       SELFVIRT_WIN_ENTRIES  /* a window each */
#define SELFVIRT_MAX_ENGINES    8
#define SELFVIRT_MAX_CONTEXTS   8
/*
 * Frames switched to a VIF wait for its ring here: deep enough to ride out
 * a guest that is descheduled for a while (16 ms of a gigabit), bounded
 * in bytes too, so 64 VIFs hold at most 128 MiB, as the board's SDRAM.
 */
#define SELFVIRT_PENDING_MAX    1024
#define SELFVIRT_PENDING_BYTES  (2 * MiB)
#define SELFVIRT_WIRE_FIFO_MAX  256   /* frames between engines and the net */
#define SELFVIRT_WIRE_SEND_MAX  1024  /* segments waiting for the tx BH */
#define SELFVIRT_MAC_SLOTS      (2 * SELFVIRT_MAX_VIFS)  /* a power of two */
#define SELFVIRT_LOCAL_HDR_MAX  256   /* room for L2-L4 headers in a piece */

/* A frame inside the board, between micro-engines. */
typedef struct SelfvirtFrame {
    QSIMPLEQ_ENTRY(SelfvirtFrame) next;
    uint32_t len;
    uint16_t tx_flags;      /* SELFVIRT_TX_*: offloads still to do */
    uint16_t mss;
    bool csum_ok;           /* from the wire: L4 checksum verified */
    uint16_t tcp_l4_off;    /* a verified TCP frame from the wire: where */
    uint16_t tcp_l5_off;    /* its TCP header and payload start; else 0 */
    int src_vif;            /* -1: from the wire */
    uint8_t data[];
} SelfvirtFrame;

typedef QSIMPLEQ_HEAD(, SelfvirtFrame) SelfvirtFrameQueue;

/* A bounded frame queue shared by threads. */
typedef struct SelfvirtFifo {
    QemuMutex lock;
    SelfvirtFrameQueue q;
    uint32_t len;             /* frames */
    uint32_t max;
    uint32_t bytes;
    uint32_t max_bytes;       /* one frame always fits */
} SelfvirtFifo;

typedef struct SelfvirtVif {
    /* configuration, set by management while the engines are paused */
    bool active;
    uint8_t mac[ETH_ALEN];
    uint32_t tx_entries;
    uint32_t rx_entries;
    uint32_t rx_buf_size;
    uint32_t rx_chain;        /* slots one frame may span */
    uint32_t rx_coalesce;     /* SELFVIRT_RX_COALESCE_* */
    uint32_t win_first;
    uint32_t win_count;
    uint32_t signals;         /* SELFVIRT_SIGNAL_*: management enables */
    uint32_t rate_mbps;       /* 0: unlimited */
    uint32_t weight;          /* frames per egress turn */
    bool spoof_check;         /* send only with its own source MAC */
    uint32_t egress_ctx;      /* global egress context index */

    /* the device's own ring indexes (free-running) */
    uint32_t tx_cons;
    uint32_t rx_prod;
    uint32_t rq_flags;        /* last SELFVIRT_RQ_* flags published */
    /* rq_flags and its copy in host memory: egress and ingress write it */
    QemuMutex flags_lock;
    bool stopped;             /* malformed descriptor: VIF halted */

    SelfvirtRate rate;        /* the egress engine's alone */

    SelfvirtFifo pending;     /* frames switched to this VIF */
    uint64_t stats[SELFVIRT_VSTAT_COUNT];
} SelfvirtVif;

enum SelfvirtEngineRole {
    SELFVIRT_ME_WIRE_RX,      /* receive from the physical port, classify */
    SELFVIRT_ME_WIRE_TX,      /* offloads, then transmit to the port */
    SELFVIRT_ME_INGRESS,      /* pool: demultiplex into VIF rx queues */
    SELFVIRT_ME_EGRESS,       /* pool: one context per VIF send queue */
};

typedef struct SelfvirtEngine {
    struct SelfvirtState *s;
    QemuThread thread;
    enum SelfvirtEngineRole role;
    unsigned egress_base;     /* first global egress context it runs */
    QemuMutex lock;
    QemuCond cond;
    bool kicked;
    bool asleep;
    struct NetTxPkt *tx_pkt;  /* TSO/checksum state of this thread */
    struct NetRxPkt *rx_pkt;  /* receive checksum state (wire-rx engine) */
} SelfvirtEngine;

struct SelfvirtState {
    PCIDevice parent_obj;

    MemoryRegion csr;
    MemoryRegion sdram;
    MemoryRegion msix;
    uint8_t *sdram_ptr;
    NICState *nic;
    NICConf conf;

    /* properties */
    uint32_t num_vifs;
    uint64_t sdram_size;
    uint32_t win_page_shift_default;
    uint32_t irq_width;
    char *irq_mode_name;      /* "identifier" or "msix" */
    uint32_t irq_mode;        /* SELFVIRT_IRQ_MODE_*, from irq_mode_name */
    uint32_t num_engines;
    uint32_t num_contexts;
    uint32_t max_frame;
    uint32_t poll_us;

    /* host window table (21555 upstream lookup table) */
    uint32_t win_lo[SELFVIRT_WIN_ENTRIES];
    uint32_t win_hi[SELFVIRT_WIN_ENTRIES];
    uint32_t win_page_shift;

    /* interrupt identifier; irq_id is set by engines with atomics */
    uint32_t irq_id;
    uint32_t irq_mask;
    bool irq_level;           /* the master interrupt, as last driven */
    uint64_t msix_pending[2];
    QEMUBH *irq_bh;

    /* management mailbox */
    uint32_t mbox_arg[SELFVIRT_MBOX_NARGS];
    uint32_t mbox_res[SELFVIRT_MBOX_NARGS];
    uint32_t mbox_status;
    uint32_t mode;
    bool promisc;

    SelfvirtVif vif[SELFVIRT_MAX_VIFS];
    int8_t mac_table[SELFVIRT_MAC_SLOTS];  /* VIF by MAC hash; -1: empty */
    uint32_t part_size;       /* SDRAM partition per VIF */
    uint32_t next_egress_ctx;
    uint32_t pending_waiters; /* engines waiting for room in a pending queue */
    uint32_t stats[SELFVIRT_STAT_COUNT];

    /* micro-engines */
    SelfvirtEngine engine[SELFVIRT_MAX_ENGINES];
    unsigned num_egress_ctx;
    bool engines_running;     /* threads started (not x-engines-inline) */
    bool engines_stop;        /* threads exit */
    bool engines_inline;      /* x-engines-inline: no threads, for fuzzing */
    bool inline_running;
    QemuMutex pause_lock;
    QemuCond pause_cond;
    unsigned pause_req;       /* nesting count */
    unsigned paused;          /* engines parked */

    /* the physical port */
    SelfvirtFifo wire_in;     /* from the netdev, to the wire-rx engine */
    SelfvirtFifo wire_out;    /* to the wire-tx engine */
    SelfvirtFifo wire_send;   /* ready frames, sent by the tx BH */
    QEMUBH *tx_bh;
    QEMUBH *rx_flush_bh;
    bool wire_in_blocked;
    VMChangeStateEntry *vmstate;
};

/* selfvirt_window.c */
bool selfvirt_window_write(SelfvirtState *s, SelfvirtVif *vif,
                           uint64_t off, const void *buf, uint64_t len);
bool selfvirt_window_range_ok(SelfvirtState *s, uint32_t first,
                              uint32_t count, uint64_t need);
uint64_t selfvirt_window_reg_read(SelfvirtState *s, hwaddr addr);
void selfvirt_window_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val);
void selfvirt_window_reset(SelfvirtState *s);

/* selfvirt_irq.c: MSI-X mode has a vector per VIF signal and the mailbox's */
#define SELFVIRT_MSIX_VECTORS(s)  (2 * (s)->num_vifs + 1)
void selfvirt_irq_init(SelfvirtState *s, Error **errp);
void selfvirt_irq_fini(SelfvirtState *s);
void selfvirt_irq_signal(SelfvirtState *s, unsigned vif, uint32_t signal);
void selfvirt_irq_update(SelfvirtState *s);
void selfvirt_irq_reset(SelfvirtState *s);
uint64_t selfvirt_irq_reg_read(SelfvirtState *s, hwaddr addr);
void selfvirt_irq_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val);

/* selfvirt_mbox.c */
void selfvirt_mbox_run(SelfvirtState *s, uint32_t cmd);
void selfvirt_mbox_reset(SelfvirtState *s);
bool selfvirt_vif_config_ok(SelfvirtState *s, unsigned v,
                            const SelfvirtVif *c, Error **errp);
bool selfvirt_vif_active_any(SelfvirtState *s);

/* selfvirt_engines.c */
void selfvirt_engines_start(SelfvirtState *s);
void selfvirt_engines_stop(SelfvirtState *s);
void selfvirt_engines_pause(SelfvirtState *s);
void selfvirt_engines_resume(SelfvirtState *s);
bool selfvirt_engines_parked(SelfvirtState *s);
void selfvirt_engine_kick(SelfvirtEngine *e);
void selfvirt_doorbell(SelfvirtState *s, uint32_t vif);
void selfvirt_kick_all(SelfvirtState *s);
SelfvirtEngine *selfvirt_engine_of_role(SelfvirtState *s,
                                        enum SelfvirtEngineRole role);
SelfvirtEngine *selfvirt_egress_engine(SelfvirtState *s, SelfvirtVif *vif);
void selfvirt_fifo_init(SelfvirtFifo *f, uint32_t max, uint32_t max_bytes);
bool selfvirt_fifo_full(SelfvirtFifo *f);
void selfvirt_fifo_destroy(SelfvirtFifo *f);
bool selfvirt_fifo_push(SelfvirtFifo *f, SelfvirtFrame *fr);
SelfvirtFrame *selfvirt_fifo_pop(SelfvirtFifo *f);
SelfvirtFrame *selfvirt_fifo_peek(SelfvirtFifo *f);
void selfvirt_fifo_unpop(SelfvirtFifo *f, SelfvirtFrame *fr);
void selfvirt_fifo_flush(SelfvirtFifo *f);
SelfvirtFrame *selfvirt_frame_alloc(uint32_t len, int src_vif);
SelfvirtFrame *selfvirt_frame_new(const void *data, uint32_t len);
ssize_t selfvirt_wire_receive(SelfvirtState *s, const uint8_t *buf,
                              size_t len);
void selfvirt_tx_bh(void *opaque);
void selfvirt_rx_flush_bh(void *opaque);

/* selfvirt_switch.c */
int selfvirt_switch_lookup(SelfvirtState *s, const uint8_t *dst);
void selfvirt_switch_rebuild(SelfvirtState *s);
/* What selfvirt_switch_forward() did with a frame. */
typedef enum SelfvirtForward {
    SELFVIRT_FWD_DONE,        /* delivered to VIFs, or dropped and counted */
    SELFVIRT_FWD_WIRE,        /* for the wire: the caller's to send */
    SELFVIRT_FWD_BUSY,        /* the board's ingress is behind: try again */
} SelfvirtForward;
SelfvirtForward selfvirt_switch_forward(SelfvirtState *s, SelfvirtFrame *fr,
                                        SelfvirtEngine *e);
void selfvirt_switch_wake_waiters(SelfvirtState *s);
void selfvirt_switch_drop(SelfvirtState *s, unsigned v, uint32_t len);
typedef enum SelfvirtRoom {
    SELFVIRT_ROOM,            /* a frame for the VIF may be queued now */
    SELFVIRT_ROOM_WAIT,       /* later: the engine is woken */
    SELFVIRT_ROOM_NONE,       /* never: its guest takes no frames */
} SelfvirtRoom;
SelfvirtRoom selfvirt_switch_room(SelfvirtState *s, unsigned v,
                                  SelfvirtEngine *e);
bool selfvirt_switch_to_wire(SelfvirtState *s, const uint8_t *dst);
bool selfvirt_switch_deliver(SelfvirtState *s, unsigned v);
void selfvirt_vif_publish(SelfvirtState *s, SelfvirtVif *vif,
                          bool rx, bool tx);
void selfvirt_vif_set_flags(SelfvirtState *s, SelfvirtVif *vif,
                            uint32_t set, uint32_t clear);

/* selfvirt_coalesce.c */
SelfvirtFrame *selfvirt_coalesce(SelfvirtState *s, SelfvirtVif *vif,
                                 SelfvirtFrame *head, uint32_t limit);

/* The largest frame VIF @vif can take: its slots, chained if it allows. */
static inline uint32_t selfvirt_vif_rx_capacity(SelfvirtVif *vif)
{
    return MIN(vif->rx_chain, vif->rx_entries) * vif->rx_buf_size;
}

static inline uint8_t *selfvirt_part(SelfvirtState *s, unsigned v)
{
    return s->sdram_ptr + (uint64_t)v * s->part_size;
}

static inline void selfvirt_stat_inc(SelfvirtState *s,
                                     enum selfvirt_board_stat st)
{
    qatomic_inc(&s->stats[st]);
}

#endif
