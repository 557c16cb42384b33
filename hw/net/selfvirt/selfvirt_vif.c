/*
 * selfvirt: the VIF table
 *
 * Each VIF's life on the board (created, checked, cleared) and the status
 * the board publishes for it in host memory: its ring indexes and flags.
 * Management changes a VIF only with the engines parked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "selfvirt.h"
#include "trace.h"

void selfvirt_vifs_init(SelfvirtState *s)
{
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_fifo_init(&s->vif[i].pending, SELFVIRT_PENDING_MAX,
                           SELFVIRT_PENDING_BYTES);
        qemu_mutex_init(&s->vif[i].flags_lock);
    }
}

void selfvirt_vifs_fini(SelfvirtState *s)
{
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_fifo_destroy(&s->vif[i].pending);
        qemu_mutex_destroy(&s->vif[i].flags_lock);
    }
}

static bool selfvirt_queue_size_ok(uint32_t n)
{
    return n >= SELFVIRT_QUEUE_MIN && n <= SELFVIRT_QUEUE_MAX &&
           is_power_of_2(n);
}

/* A VIF's receive side empty, its ring at 0; with the engines parked. */
static void selfvirt_vif_rx_reset(SelfvirtState *s, SelfvirtVif *vif)
{
    assert(selfvirt_engines_parked(s));
    selfvirt_fifo_flush(&vif->pending);
    vif->rx_prod = 0;
    vif->rq_flags = 0;
}

/* New queues, or no VIF: its send queue runs again. */
void selfvirt_vif_unhalt(SelfvirtVif *vif)
{
    vif->stopped = false;
    memset(&vif->halt, 0, sizeof(vif->halt));
    vif->rq_flags &= ~SELFVIRT_RQ_HALTED;
}

/* VIF @vif gone: nothing of it left inside the board. */
void selfvirt_vif_clear(SelfvirtState *s, SelfvirtVif *vif)
{
    assert(selfvirt_engines_parked(s));
    selfvirt_vif_rx_reset(s, vif);
    vif->active = false;
    vif->signal_gap_us = 0;     /* a slot without a VIF has none */
    vif->rx_posted = false;     /* the paper's ring for the next one */
    selfvirt_irq_vif_clear(s, vif - s->vif);
    selfvirt_vif_unhalt(vif);
    vif->tx_cons = 0;
}

/*
 * Can VIF @v have configuration @c next to the other live VIFs?  The one
 * check for the mailbox (CREATE, SET QUEUES) and for a migration stream.
 */
bool selfvirt_vif_config_ok(SelfvirtState *s, unsigned v,
                            const SelfvirtVif *c, Error **errp)
{
    if (!selfvirt_queue_size_ok(c->tx_entries) ||
        !selfvirt_queue_size_ok(c->rx_entries)) {
        error_setg(errp, "queue sizes %u/%u must be powers of two %d..%d",
                   c->tx_entries, c->rx_entries, SELFVIRT_QUEUE_MIN,
                   SELFVIRT_QUEUE_MAX);
        return false;
    }
    if (c->rx_buf_size < SELFVIRT_RX_BUF_MIN ||
        c->rx_buf_size > SELFVIRT_RX_BUF_MAX ||
        c->rx_buf_size % SELFVIRT_RX_BUF_ALIGN) {
        error_setg(errp, "receive buffer size %u must be a multiple of %d in "
                   "%d..%d", c->rx_buf_size, SELFVIRT_RX_BUF_ALIGN,
                   SELFVIRT_RX_BUF_MIN, SELFVIRT_RX_BUF_MAX);
        return false;
    }
    /* the send queue's descriptors must leave room for one largest frame */
    if (SELFVIRT_SQ_DATA_OFF(c->tx_entries) + s->port.max_frame >
        s->part_size) {
        error_setg(errp, "%u send descriptors do not fit the %u-byte SDRAM "
                   "partition", c->tx_entries, s->part_size);
        return false;
    }
    if (!selfvirt_window_range_ok(s, c->win_first, c->win_count,
            SELFVIRT_RQ_DATA_OFF(c->rx_entries) +
            (uint64_t)c->rx_entries * c->rx_buf_size)) {
        error_setg(errp, "windows %u+%u do not hold %u receive buffers of %u "
                   "bytes", c->win_first, c->win_count, c->rx_entries,
                   c->rx_buf_size);
        return false;
    }
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        const SelfvirtVif *o = &s->vif[i];

        if (i != v && o->active &&
            c->win_first < o->win_first + o->win_count &&
            o->win_first < c->win_first + c->win_count) {
            error_setg(errp, "windows %u+%u overlap VIF %u's", c->win_first,
                       c->win_count, i);
            return false;
        }
    }
    return true;
}

/* Every VIF gone, its counters with it; with the engines parked. */
void selfvirt_vifs_reset(SelfvirtState *s)
{
    for (unsigned i = 0; i < SELFVIRT_MAX_VIFS; i++) {
        selfvirt_vif_clear(s, &s->vif[i]);
        memset(s->vif[i].stats, 0, sizeof(s->vif[i].stats));
    }
}

/* Publish the VIF's whole status: indexes and flags (management). */
void selfvirt_vif_publish(SelfvirtState *s, SelfvirtVif *vif)
{
    struct selfvirt_rq_status st = {
        .rx_prod = cpu_to_le32(vif->rx_prod),
        .tx_cons = cpu_to_le32(vif->tx_cons),
    };

    QEMU_LOCK_GUARD(&vif->flags_lock);
    st.flags = cpu_to_le32(vif->rq_flags);
    selfvirt_window_write(s, vif, 0, &st,
                          offsetof(struct selfvirt_rq_status, reserved));
}

/* Publish the VIF's transmit consumer index (egress). */
void selfvirt_vif_publish_tx_cons(SelfvirtState *s, SelfvirtVif *vif)
{
    uint32_t tx_cons = cpu_to_le32(vif->tx_cons);

    selfvirt_window_write(s, vif, offsetof(struct selfvirt_rq_status, tx_cons),
                          &tx_cons, sizeof(tx_cons));
}

/*
 * The flags word has two writers, the VIF's egress engine (EGRESS_ASLEEP)
 * and the ingress engine (RX_BLOCKED): a lost update would stall the VIF
 * for good, so the change and its write to host memory are one step.
 * Readers without the lock (a writer looking at its own bit) read it
 * atomically.
 */
void selfvirt_vif_set_flags(SelfvirtState *s, SelfvirtVif *vif,
                            uint32_t set, uint32_t clear)
{
    uint32_t flags, le;

    QEMU_LOCK_GUARD(&vif->flags_lock);
    flags = (vif->rq_flags | set) & ~clear;
    if (flags != vif->rq_flags) {
        qatomic_set(&vif->rq_flags, flags);
        le = cpu_to_le32(flags);
        selfvirt_window_write(s, vif, offsetof(struct selfvirt_rq_status,
                                               flags), &le, 4);
    }
}
