/*
 * selfvirt: a self-virtualizing NIC (IXP2400 NP board behind a 21555 bridge)
 *
 * The board is made of parts, each with its state, its reset and its
 * registers in the file of its name:
 *
 *   selfvirt.c           PCI glue: QOM type, properties, BARs, CSR
 *                        dispatch, VMState, the board reset's order
 *   selfvirt_window.c    the 21555's upstream window table
 *   selfvirt_irq.c       signals: the interrupt identifier, or MSI-X;
 *                        under KVM, irqfds
 *   selfvirt_mbox.c      management (the XScale): the mailbox, the VIFs
 *   selfvirt_engines.c   the micro-engines: threads, waking, parking
 *   selfvirt_port.c      the physical port: wire-rx and wire-tx engines
 *   selfvirt_egress.c    the egress pool: send queues in SDRAM, the
 *                        doorbells (under KVM, ioeventfds)
 *   selfvirt_switch.c    the layer-2 switch: MAC table, forwarding decision
 *   selfvirt_ingress.c   the ingress pool: pending queues, receive rings
 *   selfvirt_frame.c     frames inside the board and the queues between
 *                        engines; offloads with QEMU's net_tx_pkt
 *   selfvirt_coalesce.c  receive coalescing
 *   selfvirt_stage.c     the engines' stage times (the paper's Fig. 4)
 *
 * Calls run one way: the engine loop dispatches to the contexts (port,
 * egress, ingress), which call down into the switch, frames, windows and
 * signals; waking an engine (selfvirt_engine_kick) is below them all.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_SELFVIRT_H
#define HW_NET_SELFVIRT_H

#include "hw/pci/pci_device.h"
#include "system/dma.h"
#include "hw/net/net_tx_pkt.h"
#include "net/eth.h"
#include "net/net.h"
#include "qemu/event_notifier.h"
#include "qemu/queue.h"
#include "qemu/units.h"
#include "qemu/log.h"
#include "qemu/thread.h"
#include "qemu/stats64.h"
#include "qemu/timer.h"
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
/*
 * Frames an engine's turn run inline by a vCPU (or the main loop) may
 * take, as NAPI's weight: the guest's doorbell write returns after a
 * bounded time however many VIFs and frames wait; the engine's thread
 * takes the rest.  A turn on the engine's own thread is unbounded.
 */
#define SELFVIRT_INLINE_BUDGET  64
#define SELFVIRT_TURN_UNBOUNDED UINT32_MAX
#define SELFVIRT_MAC_SLOTS      (2 * SELFVIRT_MAX_VIFS)  /* a power of two */
#define SELFVIRT_LOCAL_HDR_MAX  256   /* room for L2-L4 headers in a piece */
/* bounds of the properties the ABI header does not fix */
#define SELFVIRT_SDRAM_MIN      (16 * MiB)
#define SELFVIRT_SDRAM_MAX      (2 * GiB)   /* the 21555's downstream limit */
#define SELFVIRT_MIN_MAX_FRAME  1514
#define SELFVIRT_MAX_MAX_FRAME  (16 * KiB)
#define SELFVIRT_POLL_US_MAX    1000
#define SELFVIRT_INLINE_WAKE_US_MAX 1000000

/* ---- frames and the queues between engines (selfvirt_frame.c) ---- */

/* A frame inside the board, between micro-engines. */
typedef struct SelfvirtFrame {
    QSIMPLEQ_ENTRY(SelfvirtFrame) next;
    struct SelfvirtFramePool *pool;          /* where it returns, or NULL */
    QSLIST_ENTRY(SelfvirtFrame) pool_next;
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

/*
 * An engine's frames of up to SELFVIRT_FRAME_POOL_DATA bytes: whichever
 * thread frees one (the ingress engine, mostly) hands it back to the
 * engine that allocated it, instead of to malloc, which is slow at frees
 * from another thread.  The owner takes all returns at once, so the
 * lock-free list has one consumer.
 */
#define SELFVIRT_FRAME_POOL_DATA  2048    /* payload of a pooled frame */
#define SELFVIRT_FRAME_POOL_MAX   1024    /* then frames come from malloc */

typedef struct SelfvirtFramePool {
    QSLIST_HEAD(, SelfvirtFrame) free;      /* the owning engine only */
    unsigned allocated;                     /* the owning engine only */
    /* a line of its own: the owner takes a frame per frame it copies */
    QSLIST_HEAD(, SelfvirtFrame) returned QEMU_ALIGNED(64);  /* atomically */
} SelfvirtFramePool;

/* A bounded frame queue shared by threads; its lock is a leaf. */
typedef struct SelfvirtFifo {
    QemuMutex lock;
    SelfvirtFrameQueue q;
    uint32_t len;             /* frames */
    uint32_t max;
    uint32_t bytes;
    uint32_t max_bytes;       /* one frame always fits */
} SelfvirtFifo;

SelfvirtFrame *selfvirt_frame_alloc(uint32_t len, int src_vif);
SelfvirtFrame *selfvirt_frame_new(const void *data, uint32_t len);
SelfvirtFrame *selfvirt_frame_pool_new(SelfvirtFramePool *p,
                                       const void *data, uint32_t len);
void selfvirt_frame_free(SelfvirtFrame *fr);
void selfvirt_frame_pool_init(SelfvirtFramePool *p);
void selfvirt_frame_pool_destroy(SelfvirtFramePool *p);
SelfvirtFrame *selfvirt_frame_from_iov(const struct iovec *iov, int iovcnt,
                                       int src_vif);
SelfvirtFrame *selfvirt_frame_copy(const SelfvirtFrame *fr);
bool selfvirt_frame_offload(struct NetTxPkt *pkt, SelfvirtFrame *fr,
                            bool to_peer, NetTxPktSend cb, void *opaque);
void selfvirt_fifo_init(SelfvirtFifo *f, uint32_t max, uint32_t max_bytes);
void selfvirt_fifo_destroy(SelfvirtFifo *f);
bool selfvirt_fifo_full(SelfvirtFifo *f);
bool selfvirt_fifo_full_with(SelfvirtFifo *f, uint32_t frames,
                             uint32_t bytes);
bool selfvirt_fifo_empty(SelfvirtFifo *f);
bool selfvirt_fifo_push(SelfvirtFifo *f, SelfvirtFrame *fr);
void selfvirt_fifo_append(SelfvirtFifo *f, SelfvirtFrame *fr);
void selfvirt_fifo_append_queue(SelfvirtFifo *f, SelfvirtFrameQueue *q,
                                uint32_t frames, uint32_t bytes);
SelfvirtFrame *selfvirt_fifo_pop(SelfvirtFifo *f);
void selfvirt_fifo_unpop(SelfvirtFifo *f, SelfvirtFrame *fr);
void selfvirt_fifo_flush(SelfvirtFifo *f);

/*
 * Frames the single consumer of a fifo took at once: one lock for the
 * batch, not one per frame, and one update of the fifo's bound when it is
 * done.  Taken frames still count against the bound until then.
 */
typedef struct SelfvirtBatch {
    SelfvirtFrameQueue q;
    uint32_t frames;          /* taken off q since selfvirt_fifo_take() */
    uint64_t bytes;
} SelfvirtBatch;

void selfvirt_fifo_take(SelfvirtFifo *f, SelfvirtBatch *b);
void selfvirt_fifo_take_done(SelfvirtFifo *f, SelfvirtBatch *b);
SelfvirtFrame *selfvirt_batch_peek(SelfvirtBatch *b);
SelfvirtFrame *selfvirt_batch_pop(SelfvirtBatch *b);
void selfvirt_batch_unpop(SelfvirtBatch *b, SelfvirtFrame *fr);

/* ---- a VIF: management's configuration, egress and ingress state ---- */

typedef struct SelfvirtVif {
    /* configuration, set by management while the engines are parked */
    bool active;
    uint8_t mac[ETH_ALEN];
    uint32_t tx_entries;
    uint32_t rx_entries;
    uint32_t rx_buf_size;
    uint32_t rx_chain;        /* slots one frame may span */
    uint32_t rx_coalesce;     /* SELFVIRT_RX_COALESCE_* */
    bool rx_posted;           /* ATTR_RX_POSTED: buffers in descriptors */
    uint32_t win_first;
    uint32_t win_count;
    uint32_t signals;         /* SELFVIRT_SIGNAL_*: management enables */
    uint32_t weight;          /* frames per egress turn */
    uint32_t signal_gap_us;   /* moderation: ATTR_SIGNAL_GAP */
    bool spoof_check;         /* send only with its own source MAC */
    uint32_t egress_ctx;      /* global egress context index */

    /*
     * Each part below on lines of its own: another thread's writes to
     * one must not evict what an engine reads per frame in another.
     */

    /* egress: its context's alone */
    uint32_t tx_cons QEMU_ALIGNED(64);    /* free-running */
    bool stopped;             /* malformed descriptor: VIF halted */
    struct {                  /* why, for VIF_STATUS (not migrated) */
        uint32_t reason;      /* enum selfvirt_halt_reason */
        uint32_t index;       /* tx_cons at the halt */
        struct selfvirt_tx_desc desc;
    } halt;
    SelfvirtRate rate;

    /* ingress */
    uint32_t rx_prod QEMU_ALIGNED(64);    /* free-running */
    SelfvirtFifo pending;     /* frames switched to this VIF */
    /* rq_flags and its copy in host memory: egress and ingress write it */
    QemuMutex flags_lock;
    uint32_t rq_flags;        /* last SELFVIRT_RQ_* flags published */

    uint64_t stats[SELFVIRT_VSTAT_COUNT] QEMU_ALIGNED(64);
} QEMU_ALIGNED(64) SelfvirtVif;

/* The largest frame VIF @vif can take: its slots, chained if it allows. */
static inline uint32_t selfvirt_vif_rx_capacity(SelfvirtVif *vif)
{
    return MIN(vif->rx_chain, vif->rx_entries) * vif->rx_buf_size;
}

/* ---- the window table (selfvirt_window.c) ---- */

typedef struct SelfvirtWindows {
    uint32_t lo[SELFVIRT_WIN_ENTRIES];
    uint32_t hi[SELFVIRT_WIN_ENTRIES];
    uint32_t page_shift;
    uint32_t page_shift_reset;    /* property window-page-shift */
} SelfvirtWindows;

/* ---- signals (selfvirt_irq.c) ---- */

typedef struct SelfvirtSignals {
    uint32_t width_max;       /* property irq-id-width, the reset value */
    uint32_t width;           /* the width management chose: IRQ_INFO */
    char *mode_name;          /* property irq-mode */
    uint32_t mode;            /* SELFVIRT_IRQ_MODE_*, from mode_name */
    uint32_t id;              /* the identifier; engines set bits atomically */
    uint32_t mask;
    bool level;               /* the master interrupt, as last driven */
    uint64_t msix_pending[2];
    bool raise_on_run;        /* a loaded board's pending signals */
    QEMUBH *bh;
    MemoryRegion msix;
    /* moderation: per VIF and kind (tx, rx), the earliest next signal */
    int64_t next_ns[SELFVIRT_MAX_VIFS][2];
    uint64_t held[2];         /* VIFs whose signal waits, per kind */
    QEMUTimer *release;       /* raises them when their gap ends */
    /*
     * KVM's fast path: the MSI or each MSI-X vector as an irqfd, which an
     * engine sets with no BQL.  notifier is NULL without KVM's MSI routes.
     */
    bool irqfd_allowed;       /* property irqfd */
    bool irqfd;               /* on: engines signal by notifier */
    EventNotifier *notifier;  /* per vector; [0] the MSI */
    int *virq;                /* its KVM route, or -1 */
    bool *bound;              /* its irqfd is in KVM (unmasked) */
} SelfvirtSignals;

/* MSI-X mode has a vector per VIF signal and the mailbox's */
#define SELFVIRT_MSIX_VECTORS(s)  (2 * (s)->num_vifs + 1)

/* ---- the mailbox (selfvirt_mbox.c) ---- */

typedef struct SelfvirtMbox {
    uint32_t arg[SELFVIRT_MBOX_NARGS];
    uint32_t res[SELFVIRT_MBOX_NARGS];
    uint32_t status;
} SelfvirtMbox;

/* ---- the switch (selfvirt_switch.c) ---- */

typedef struct SelfvirtSwitch {
    uint32_t mode;            /* SELFVIRT_MODE_*: VIFs, or a plain NIC */
    bool promisc;             /* plain NIC mode: every frame to VIF 0 */
    int8_t mac_table[SELFVIRT_MAC_SLOTS];  /* VIF by MAC hash; -1: empty */
} SelfvirtSwitch;

/* Where a frame goes, from its destination MAC and its source. */
typedef enum SelfvirtDest {
    SELFVIRT_DEST_VIF,        /* the VIF that owns the MAC (route.vif) */
    SELFVIRT_DEST_WIRE,       /* from a VIF, to the port */
    SELFVIRT_DEST_FLOOD,      /* group address: the other VIFs (and port) */
    SELFVIRT_DEST_UNKNOWN,    /* from the port, no VIF owns it: dropped */
    SELFVIRT_DEST_SOURCE,     /* back where it came from: never reflected */
} SelfvirtDest;

typedef struct SelfvirtRoute {
    SelfvirtDest dest;
    unsigned vif;             /* SELFVIRT_DEST_VIF only */
} SelfvirtRoute;

/* ---- the physical port (selfvirt_port.c) ---- */

typedef struct SelfvirtPort {
    NICState *nic;
    NICConf conf;
    uint32_t max_frame;       /* property max-frame */
    bool disable_vnet_hdr;    /* property disable-vnet-hdr */
    bool has_vnet;            /* frames to and from the peer: header first */
    SelfvirtFifo in;          /* from the netdev, to the wire-rx engine */
    SelfvirtFifo out;         /* to the wire-tx engine */
    SelfvirtFifo send;        /* ready frames, sent by the tx BH */
    QEMUBH *tx_bh;
    QEMUBH *rx_flush_bh;
    bool in_blocked;          /* the net layer holds frames for us */
    bool tx_queued;           /* it holds one of ours (BQL): wait for it */
    bool tx_running;          /* in selfvirt_port_tx_bh (BQL) */
    QEMUTimer *tx_peer_timer; /* meanwhile: is the peer still there? */
    uint32_t room_waiters;    /* engines waiting for room in out, a bit each */
} SelfvirtPort;

/* ---- the micro-engines (selfvirt_engines.c) ---- */

enum SelfvirtEngineRole {
    SELFVIRT_ME_WIRE_RX,      /* receive from the physical port, classify */
    SELFVIRT_ME_WIRE_TX,      /* offloads, then transmit to the port */
    SELFVIRT_ME_INGRESS,      /* pool: demultiplex into VIF rx queues */
    SELFVIRT_ME_EGRESS,       /* pool: one context per VIF send queue */
    SELFVIRT_ME_ROLES
};

struct SelfvirtEngine;

/*
 * What a role runs in an engine's turn.  Each role registers its own with
 * selfvirt_engines_set_role(); the engines call them and know no role.
 */
typedef struct SelfvirtRoleOps {
    const char *name;         /* in its threads' names */
    bool per_context;         /* run() for each context, else once */
    /* context @ctx's work: true if it found some; @wait_ns: wake by then */
    bool (*run)(struct SelfvirtEngine *e, unsigned ctx, int64_t *wait_ns);
    /*
     * A role that polls a while before it sleeps, and tells the driver
     * when it sleeps (egress, through its VIFs' EGRESS_ASLEEP); or NULL.
     */
    void (*set_asleep)(struct SelfvirtEngine *e, bool asleep);
} SelfvirtRoleOps;

/*
 * The micro-engines' stages, for the paper's Fig. 4: X(ID, "name").  With
 * stage-timing=on each engine times the stages it runs and counts their
 * frames (selfvirt_stage.c); qom-get of "stage-times" reads the sums.
 */
#define SELFVIRT_STAGES(X) \
    X(EGRESS_MSG_RECV, "egress-msg-recv"),    /* descriptor, frame copied */ \
    X(EGRESS_PKT_TX, "egress-pkt-tx"),        /* switched to wire or VIF */ \
    X(WIRE_TX, "wire-tx"),                    /* offloads, to the netdev */ \
    X(INGRESS_PKT_RX, "ingress-pkt-rx"),      /* from the port, checksum */ \
    X(INGRESS_DEMUX, "ingress-demux"),        /* MAC lookup, pending queue */ \
    X(INGRESS_MSG_SEND, "ingress-msg-send"),  /* into the ring, signal */

#define SELFVIRT_STAGE_ENUM(id, name)   SELFVIRT_STAGE_##id
typedef enum SelfvirtStage {
    SELFVIRT_STAGES(SELFVIRT_STAGE_ENUM)
    SELFVIRT_STAGE_COUNT
} SelfvirtStage;
#undef SELFVIRT_STAGE_ENUM

/* One stage's sums in one engine: written by that engine only. */
typedef struct SelfvirtStageTime {
    Stat64 ns;
    Stat64 frames;
} SelfvirtStageTime;

typedef struct SelfvirtEngine {
    struct SelfvirtState *s;
    QemuThread thread;
    enum SelfvirtEngineRole role;
    unsigned egress_base;     /* first global egress context it runs */
    QemuMutex lock;
    QemuCond cond;
    QemuMutex run_lock;       /* held by whoever runs its contexts */
    bool kicked;
    bool asleep;
    int64_t asleep_since;     /* get_clock() when it last went to sleep */
    struct NetTxPkt *tx_pkt;  /* TSO/checksum state of this thread */
    struct NetRxPkt *rx_pkt;  /* receive checksum state (wire-rx engine) */
    SelfvirtFramePool frames; /* the frames it copies out of SDRAM */
    bool ingress_pending;     /* queued frames ingress was not told of */
    /*
     * Frames it switched to VIF outbox_vif in this turn, queued on that
     * VIF's pending queue at once (selfvirt_outbox_flush): one lock per
     * turn, not per frame.  Empty between turns.
     */
    SelfvirtFrameQueue outbox;
    int outbox_vif;           /* -1: empty */
    uint32_t outbox_frames;
    uint32_t outbox_bytes;
    uint32_t switched_local;  /* this turn's, for the board's counter */
    uint32_t budget;          /* frames this turn may still take */
    SelfvirtStageTime stage[SELFVIRT_STAGE_COUNT];
} SelfvirtEngine;

typedef struct SelfvirtEngines {
    SelfvirtEngine engine[SELFVIRT_MAX_ENGINES];
    const SelfvirtRoleOps *roles[SELFVIRT_ME_ROLES];
    uint32_t count;           /* property engines */
    uint32_t contexts;        /* property contexts: per engine */
    uint32_t poll_us;         /* property poll-us */
    bool inline_mode;         /* property x-engines-inline: no threads */
    uint32_t inline_wake_us;  /* property inline-wake-us, 0: off */
    bool stage_timing;        /* property stage-timing */
    unsigned egress_contexts;
    uint32_t next_egress_ctx; /* round-robin for new VIFs */
    bool running;             /* threads started */
    bool stop;                /* threads exit */
    bool inline_running;
    QemuMutex pause_lock;
    QemuCond pause_cond;
    unsigned pause_req;       /* nesting count */
    unsigned paused;          /* engines parked */
} SelfvirtEngines;

/* ---- the queues between roles (selfvirt_queues.c) ---- */

typedef struct SelfvirtQueues {
    uint32_t pending_waiters; /* engines waiting for room, a bit each */
} SelfvirtQueues;

/* What room a VIF's pending queue has for one more frame. */
typedef enum SelfvirtRoom {
    SELFVIRT_ROOM,            /* a frame for the VIF may be queued now */
    SELFVIRT_ROOM_WAIT,       /* later: the engine is woken */
    SELFVIRT_ROOM_NONE,       /* never: its guest takes no frames */
} SelfvirtRoom;

/* What became of a frame cut for a VIF (selfvirt_pending_queue_cut). */
typedef enum SelfvirtCut {
    SELFVIRT_CUT_QUEUED,      /* its pieces wait for ingress */
    SELFVIRT_CUT_WAIT,        /* later (the board is behind): still yours */
    SELFVIRT_CUT_DROPPED,     /* the VIF takes no frames: counted */
    SELFVIRT_CUT_BAD,         /* the offloads cannot parse it: dropped */
} SelfvirtCut;

/* ---- the doorbells under KVM (selfvirt_egress.c) ---- */

/* A VIF's doorbell as an ioeventfd: its page, and DOORBELL = v */
typedef struct SelfvirtDoorbell {
    EventNotifier notifier;
    SelfvirtState *s;
} SelfvirtDoorbell;

/* ---- the board ---- */

struct SelfvirtState {
    PCIDevice parent_obj;

    MemoryRegion csr;
    MemoryRegion doorbells;   /* SELFVIRT_BAR_DOORBELL */
    MemoryRegion sdram;
    uint8_t *sdram_ptr;
    uint64_t sdram_size;      /* property sdram-size */
    uint32_t part_size;       /* SDRAM partition per VIF */
    uint32_t num_vifs;        /* property vifs */

    SelfvirtWindows win;
    SelfvirtSignals irq;
    SelfvirtMbox mbox;
    SelfvirtSwitch sw;
    SelfvirtPort port;
    SelfvirtEngines me;
    SelfvirtQueues queues;

    SelfvirtVif vif[SELFVIRT_MAX_VIFS];
    bool ioeventfd;           /* property ioeventfd */
    bool doorbell_eventfds;   /* registered: KVM and the property */
    SelfvirtDoorbell doorbell[SELFVIRT_MAX_VIFS];
    uint32_t stats[SELFVIRT_STAT_COUNT];
    VMChangeStateEntry *vmstate;
};

/* selfvirt_window.c */

/*
 * Host memory behind a window page, kept mapped for the writes of one
 * engine turn (one translation instead of one per write).  Only for a
 * bounded run of writes: a mapping does not follow later changes of the
 * window table (management parks the engines first) or of guest memory.
 */
typedef struct SelfvirtWindowMap {
    MemoryRegionCache cache;
    uint64_t off;             /* the window offset the mapping starts at */
    uint64_t len;             /* bytes mapped; 0: none */
} SelfvirtWindowMap;

void selfvirt_window_map_init(SelfvirtWindowMap *m);
void selfvirt_window_map_destroy(SelfvirtWindowMap *m);
bool selfvirt_window_write_mapped(SelfvirtState *s, SelfvirtVif *vif,
                                  SelfvirtWindowMap *m, uint64_t off,
                                  const void *buf, uint64_t len);
bool selfvirt_window_read_mapped(SelfvirtState *s, SelfvirtVif *vif,
                                 SelfvirtWindowMap *m, uint64_t off,
                                 void *buf, uint64_t len);
bool selfvirt_window_write(SelfvirtState *s, SelfvirtVif *vif,
                           uint64_t off, const void *buf, uint64_t len);
bool selfvirt_window_range_ok(SelfvirtState *s, uint32_t first,
                              uint32_t count, uint64_t need);
uint64_t selfvirt_window_reg_read(SelfvirtState *s, hwaddr addr);
void selfvirt_window_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val);
void selfvirt_window_reset(SelfvirtState *s);
bool selfvirt_window_state_ok(SelfvirtState *s, Error **errp);

/* selfvirt_irq.c */
bool selfvirt_irq_init(SelfvirtState *s, Error **errp);
void selfvirt_irq_fini(SelfvirtState *s);
void selfvirt_irq_reset(SelfvirtState *s);
void selfvirt_irq_signal(SelfvirtState *s, unsigned vif, uint32_t signal);
void selfvirt_irq_post_load(SelfvirtState *s);
void selfvirt_irq_vm_running(SelfvirtState *s);
void selfvirt_irq_vif_clear(SelfvirtState *s, unsigned vif);
uint64_t selfvirt_irq_reg_read(SelfvirtState *s, hwaddr addr);
void selfvirt_irq_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val);
bool selfvirt_irq_state_ok(SelfvirtState *s, Error **errp);
void selfvirt_irqfd_off(SelfvirtState *s);
void selfvirt_irq_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                               int len);
int selfvirt_irq_pre_save(void *opaque);

/* selfvirt_mbox.c */
void selfvirt_mbox_reset(SelfvirtState *s);
uint64_t selfvirt_mbox_reg_read(SelfvirtState *s, hwaddr addr);
bool selfvirt_mbox_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val);

/* selfvirt_vif.c */
void selfvirt_vifs_init(SelfvirtState *s);
void selfvirt_vifs_fini(SelfvirtState *s);
void selfvirt_vifs_reset(SelfvirtState *s);
void selfvirt_vif_clear(SelfvirtState *s, SelfvirtVif *vif);
void selfvirt_vif_unhalt(SelfvirtVif *vif);
bool selfvirt_vif_config_ok(SelfvirtState *s, unsigned v,
                            const SelfvirtVif *c, Error **errp);
void selfvirt_vif_publish(SelfvirtState *s, SelfvirtVif *vif);
void selfvirt_vif_publish_tx_cons(SelfvirtState *s, SelfvirtVif *vif);
void selfvirt_vif_set_flags(SelfvirtState *s, SelfvirtVif *vif,
                            uint32_t set, uint32_t clear);

/* selfvirt_switch.c */
void selfvirt_switch_reset(SelfvirtState *s);
void selfvirt_switch_rebuild(SelfvirtState *s);
SelfvirtRoute selfvirt_switch_route(SelfvirtState *s, const uint8_t *dst,
                                    int src_vif);

/* selfvirt_port.c */
void selfvirt_port_init(SelfvirtState *s);
void selfvirt_port_fini(SelfvirtState *s);
void selfvirt_port_reset(SelfvirtState *s);

/* selfvirt_egress.c */
void selfvirt_egress_doorbell(SelfvirtState *s, uint32_t vif);
void selfvirt_egress_init(SelfvirtState *s);
void selfvirt_doorbell_eventfds_init(SelfvirtState *s);
void selfvirt_doorbell_eventfds_fini(SelfvirtState *s);
extern const MemoryRegionOps selfvirt_doorbell_page_ops;   /* BAR1 */

/* selfvirt_ingress.c */
void selfvirt_ingress_init(SelfvirtState *s);

/* selfvirt_queues.c */
SelfvirtRoom selfvirt_pending_room(SelfvirtState *s, unsigned v,
                                   SelfvirtEngine *e);
bool selfvirt_pending_queue(SelfvirtState *s, unsigned v, SelfvirtFrame *fr,
                            SelfvirtEngine *e);
void selfvirt_pending_queue_burst(SelfvirtState *s, unsigned v,
                                  SelfvirtFrame *fr);
SelfvirtCut selfvirt_pending_queue_cut(SelfvirtEngine *e, unsigned v,
                                       SelfvirtFrame *fr);
void selfvirt_pending_flood(SelfvirtState *s, const SelfvirtFrame *fr);
void selfvirt_pending_drop(SelfvirtState *s, unsigned v, uint32_t len);
void selfvirt_pending_room_made(SelfvirtState *s);
void selfvirt_outbox_flush(SelfvirtEngine *e);
void selfvirt_outbox_kick(SelfvirtEngine *e);
bool selfvirt_port_queue_busy(SelfvirtState *s, SelfvirtEngine *e);
bool selfvirt_port_queue(SelfvirtState *s, SelfvirtFrame *fr);

/* selfvirt_engines.c */
void selfvirt_engines_set_role(SelfvirtState *s, enum SelfvirtEngineRole role,
                               const SelfvirtRoleOps *ops);
void selfvirt_engines_init(SelfvirtState *s);
void selfvirt_engines_fini(SelfvirtState *s);
void selfvirt_engines_free_frames(SelfvirtState *s);
void selfvirt_engines_reset(SelfvirtState *s);
void selfvirt_engines_pause(SelfvirtState *s);
void selfvirt_engines_resume(SelfvirtState *s);
bool selfvirt_engines_parked(SelfvirtState *s);
void selfvirt_engines_run_inline(SelfvirtState *s);
void selfvirt_engine_kick(SelfvirtEngine *e);
void selfvirt_engine_wait_on(uint32_t *waiters, SelfvirtEngine *e);
void selfvirt_engines_wake_waiters(SelfvirtState *s, uint32_t *waiters);
void selfvirt_engine_wake(SelfvirtEngine *e);
bool selfvirt_engines_finish_here(SelfvirtState *s);
void selfvirt_engine_kick_role(SelfvirtState *s,
                               enum SelfvirtEngineRole role);
SelfvirtEngine *selfvirt_egress_engine(SelfvirtState *s, SelfvirtVif *vif);
unsigned selfvirt_engines_next_egress_ctx(SelfvirtState *s);

/* selfvirt_stage.c */
int64_t selfvirt_stage_add(SelfvirtEngine *e, SelfvirtStage stage,
                           int64_t start, unsigned frames);
void selfvirt_stage_reset(SelfvirtState *s);
void selfvirt_stage_class_init(ObjectClass *klass);
void selfvirt_engines_class_init(ObjectClass *klass);

/* When a stage starts: a clock reading with stage-timing=on, else 0. */
static inline int64_t selfvirt_stage_clock(SelfvirtEngine *e)
{
    return e->s->me.stage_timing ? get_clock() : 0;
}

/* selfvirt_coalesce.c */
SelfvirtFrame *selfvirt_coalesce(SelfvirtState *s, SelfvirtVif *vif,
                                 SelfvirtBatch *b, SelfvirtFrame *head,
                                 uint32_t limit);

static inline uint8_t *selfvirt_part(SelfvirtState *s, unsigned v)
{
    return s->sdram_ptr + (uint64_t)v * s->part_size;
}

/*
 * The board's own write into VIF @v's partition: zero its first @len
 * bytes, and tell migration, which sees only writes through the BAR.
 */
static inline void selfvirt_part_clear(SelfvirtState *s, unsigned v,
                                       uint64_t len)
{
    memset(selfvirt_part(s, v), 0, len);
    memory_region_set_dirty(&s->sdram, (uint64_t)v * s->part_size, len);
}

static inline void selfvirt_stat_inc(SelfvirtState *s,
                                     enum selfvirt_board_stat st)
{
    qatomic_inc(&s->stats[st]);
}

/*
 * A register write that would move what live VIFs use (window page size,
 * identifier width): refused and counted while any VIF exists.
 */
static inline bool selfvirt_csr_refused_while_live(SelfvirtState *s,
                                                   const char *what,
                                                   uint32_t val)
{
    for (unsigned i = 0; i < s->num_vifs; i++) {
        if (s->vif[i].active) {
            qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: %s change to %u while "
                          "VIFs are live, refused\n", what, val);
            selfvirt_stat_inc(s, SELFVIRT_STAT_CSR_REFUSED);
            return true;
        }
    }
    return false;
}

#endif
