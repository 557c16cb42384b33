/*
 * selfvirt: management, the XScale core's role
 *
 * The host's management driver (the paper's dom0 driver) writes a command's
 * arguments into the mailbox and then the command word; the XScale runs it
 * before the write completes, leaving a status code and results.  Commands
 * that change what the micro-engines work on pause them first, so that a
 * destroyed VIF sees no DMA once DESTROY has returned.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "net/eth.h"
#include "selfvirt.h"
#include "trace.h"

static uint32_t selfvirt_mbox_fail(uint32_t status, const char *why, ...)
    G_GNUC_PRINTF(2, 3);

static uint32_t selfvirt_mbox_fail(uint32_t status, const char *why, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, why);
    msg = g_strdup_vprintf(why, ap);
    va_end(ap);
    qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: mailbox: %s (status %u)\n",
                  msg, status);
    return status;
}

static void selfvirt_mac_from_args(uint8_t *mac, uint32_t lo, uint32_t hi)
{
    stl_le_p(mac, lo);
    stw_le_p(mac + 4, hi);
}

/* The mailbox's answer to a configuration selfvirt_vif_config_ok refused. */
static uint32_t selfvirt_check_config(SelfvirtState *s, unsigned v,
                                      const SelfvirtVif *c)
{
    Error *err = NULL;
    uint32_t st = SELFVIRT_ST_OK;

    if (!selfvirt_vif_config_ok(s, v, c, &err)) {
        st = selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "%s",
                                error_get_pretty(err));
        error_free(err);
    }
    return st;
}

static uint32_t selfvirt_cmd_create(SelfvirtState *s)
{
    uint32_t *a = s->mbox.arg;
    uint32_t v = a[0];
    uint32_t win_first = SELFVIRT_WINDOWS_FIRST(a[4]);
    uint32_t win_count = SELFVIRT_WINDOWS_COUNT(a[4]);
    uint32_t st;
    SelfvirtVif *vif;

    if (s->sw.mode == SELFVIRT_MODE_NIC && v != 0) {
        return selfvirt_mbox_fail(SELFVIRT_ST_WRONG_MODE,
                                  "the plain NIC mode has only VIF 0");
    }
    if (v == SELFVIRT_VIF_ANY) {
        for (v = 0; v < s->num_vifs && s->vif[v].active; v++) {
            /* find a free slot */
        }
        if (v == s->num_vifs) {
            return selfvirt_mbox_fail(SELFVIRT_ST_NO_RESOURCES,
                                      "all %u VIFs are in use", s->num_vifs);
        }
    } else if (v >= s->num_vifs) {
        return selfvirt_mbox_fail(SELFVIRT_ST_NO_VIF, "VIF %u out of 0..%u",
                                  v, s->num_vifs - 1);
    } else if (s->vif[v].active) {
        return selfvirt_mbox_fail(SELFVIRT_ST_EXISTS, "VIF %u exists", v);
    }
    {
        SelfvirtVif c = {
            .tx_entries = SELFVIRT_QUEUES_TX(a[3]),
            .rx_entries = SELFVIRT_QUEUES_RX(a[3]),
            .rx_buf_size = a[5], .win_first = win_first,
            .win_count = win_count,
        };

        st = selfvirt_check_config(s, v, &c);
        if (st != SELFVIRT_ST_OK) {
            return st;
        }
    }
    if (a[1] & 1) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG,
                                  "a VIF's MAC must be unicast");
    }

    vif = &s->vif[v];
    selfvirt_engines_pause(s);
    selfvirt_vif_clear(s, vif);
    memset(vif->stats, 0, sizeof(vif->stats));
    if (a[1] || a[2]) {
        selfvirt_mac_from_args(vif->mac, a[1], a[2]);
    } else {
        memcpy(vif->mac, s->port.conf.macaddr.a, ETH_ALEN);
        vif->mac[5] += v;
    }
    vif->tx_entries = SELFVIRT_QUEUES_TX(a[3]);
    vif->rx_entries = SELFVIRT_QUEUES_RX(a[3]);
    vif->rx_buf_size = a[5];
    vif->rx_chain = 1;
    vif->rx_coalesce = 0;
    vif->win_first = win_first;
    vif->win_count = win_count;
    vif->signals = SELFVIRT_SIGNAL_TX | SELFVIRT_SIGNAL_RX;
    selfvirt_rate_set(&vif->rate, 0);
    vif->weight = 16;
    vif->spoof_check = true;
    vif->egress_ctx = selfvirt_engines_next_egress_ctx(s);
    /* nothing of the slot's last tenant stays readable */
    selfvirt_part_clear(s, v, s->part_size);
    vif->active = true;
    selfvirt_switch_rebuild(s);
    selfvirt_vif_publish(s, vif);
    selfvirt_engines_resume(s);

    s->mbox.res[0] = v;
    s->mbox.res[1] = v * s->part_size;
    s->mbox.res[2] = s->part_size;
    s->mbox.res[3] = ldl_le_p(vif->mac);
    s->mbox.res[4] = lduw_le_p(vif->mac + 4);
    trace_selfvirt_vif_create(v, win_first, win_count, vif->tx_entries,
                              vif->rx_entries);
    return SELFVIRT_ST_OK;
}

static SelfvirtVif *selfvirt_vif_arg(SelfvirtState *s, uint32_t *st)
{
    uint32_t v = s->mbox.arg[0];

    if (v >= s->num_vifs || !s->vif[v].active) {
        *st = selfvirt_mbox_fail(SELFVIRT_ST_NO_VIF, "no VIF %u", v);
        return NULL;
    }
    *st = SELFVIRT_ST_OK;
    return &s->vif[v];
}

static uint32_t selfvirt_cmd_destroy(SelfvirtState *s)
{
    uint32_t st;
    SelfvirtVif *vif = selfvirt_vif_arg(s, &st);

    if (!vif) {
        return st;
    }
    /* parked engines have no DMA in flight; they skip inactive VIFs */
    selfvirt_engines_pause(s);
    selfvirt_vif_clear(s, vif);
    selfvirt_switch_rebuild(s);
    selfvirt_engines_resume(s);
    trace_selfvirt_vif_destroy(vif - s->vif);
    return SELFVIRT_ST_OK;
}

/* ---- VIF_SET: one handler per attribute ---- */

static uint32_t selfvirt_attr_mac(SelfvirtState *s, SelfvirtVif *vif,
                                  uint32_t lo, uint32_t hi)
{
    if (lo & 1) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG,
                                  "a VIF's MAC must be unicast");
    }
    selfvirt_engines_pause(s);
    selfvirt_mac_from_args(vif->mac, lo, hi);
    selfvirt_switch_rebuild(s);
    selfvirt_engines_resume(s);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_attr_signals(SelfvirtState *s, SelfvirtVif *vif,
                                      uint32_t signals, uint32_t unused)
{
    if (signals & ~(SELFVIRT_SIGNAL_TX | SELFVIRT_SIGNAL_RX)) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG,
                                  "unknown signal bits 0x%x", signals);
    }
    qatomic_set(&vif->signals, signals);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_attr_rate(SelfvirtState *s, SelfvirtVif *vif,
                                   uint32_t mbps, uint32_t unused)
{
    if (mbps > SELFVIRT_RATE_MAX_MBPS) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "rate %u Mbit/s above "
                                  "%u", mbps, SELFVIRT_RATE_MAX_MBPS);
    }
    selfvirt_engines_pause(s);
    selfvirt_rate_set(&vif->rate, mbps);
    selfvirt_engines_resume(s);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_attr_weight(SelfvirtState *s, SelfvirtVif *vif,
                                     uint32_t weight, uint32_t unused)
{
    if (weight < 1 || weight > SELFVIRT_WEIGHT_MAX) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "weight %u out of "
                                  "1..%u", weight, SELFVIRT_WEIGHT_MAX);
    }
    qatomic_set(&vif->weight, weight);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_attr_signal_gap(SelfvirtState *s, SelfvirtVif *vif,
                                         uint32_t us, uint32_t unused)
{
    if (us > SELFVIRT_SIGNAL_GAP_MAX_US) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "signal gap of %u us "
                                  "out of 0..%u", us,
                                  SELFVIRT_SIGNAL_GAP_MAX_US);
    }
    qatomic_set(&vif->signal_gap_us, us);
    return SELFVIRT_ST_OK;
}

/*
 * New rings: the driver must have stopped the VIF's traffic.  The engines
 * park first: the candidate is a copy of the whole VIF, flags and all.
 */
static uint32_t selfvirt_attr_queues(SelfvirtState *s, SelfvirtVif *vif,
                                     uint32_t queues, uint32_t rx_buf_size)
{
    unsigned v = vif - s->vif;
    SelfvirtVif c;
    uint32_t st;

    selfvirt_engines_pause(s);
    c = *vif;
    c.tx_entries = SELFVIRT_QUEUES_TX(queues);
    c.rx_entries = SELFVIRT_QUEUES_RX(queues);
    c.rx_buf_size = rx_buf_size ? rx_buf_size : vif->rx_buf_size;
    st = selfvirt_check_config(s, v, &c);
    if (st != SELFVIRT_ST_OK) {
        selfvirt_engines_resume(s);
        return st;
    }
    selfvirt_fifo_flush(&vif->pending);
    vif->tx_entries = c.tx_entries;
    vif->rx_entries = c.rx_entries;
    vif->rx_buf_size = c.rx_buf_size;
    vif->tx_cons = vif->rx_prod = 0;
    selfvirt_vif_unhalt(vif);
    selfvirt_part_clear(s, v, SELFVIRT_SQ_DESC_OFF);   /* the control block */
    selfvirt_vif_publish(s, vif);
    selfvirt_engines_resume(s);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_attr_rx_chain(SelfvirtState *s, SelfvirtVif *vif,
                                       uint32_t chain, uint32_t coalesce)
{
    if (chain < 1 || chain > SELFVIRT_RX_CHAIN_MAX) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "receive chain of %u "
                                  "slots out of 1..%u", chain,
                                  SELFVIRT_RX_CHAIN_MAX);
    }
    if (coalesce & ~SELFVIRT_RX_COALESCE_TCP) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "unknown receive "
                                  "coalescing bits 0x%x", coalesce);
    }
    /* frames already cut for the old size may wait: drop none */
    selfvirt_engines_pause(s);
    vif->rx_chain = chain;
    vif->rx_coalesce = coalesce;
    selfvirt_engines_resume(s);
    return SELFVIRT_ST_OK;
}

/* A VIF's switch @flag, named @what, to @on: 0 or 1. */
static uint32_t selfvirt_attr_flag(SelfvirtState *s, bool *flag, uint32_t on,
                                   const char *what)
{
    if (on > 1) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "%s %u is neither 0 "
                                  "nor 1", what, on);
    }
    selfvirt_engines_pause(s);
    *flag = on;
    selfvirt_engines_resume(s);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_attr_rx_posted(SelfvirtState *s, SelfvirtVif *vif,
                                        uint32_t posted, uint32_t unused)
{
    return selfvirt_attr_flag(s, &vif->rx_posted, posted,
                              "posted receive buffers");
}

static uint32_t selfvirt_attr_spoof_check(SelfvirtState *s, SelfvirtVif *vif,
                                          uint32_t on, uint32_t unused)
{
    return selfvirt_attr_flag(s, &vif->spoof_check, on, "spoof check");
}

/* A handler checks ARG2 and ARG3 and sets the attribute, or fails. */
typedef uint32_t (*SelfvirtAttrSet)(SelfvirtState *s, SelfvirtVif *vif,
                                    uint32_t arg2, uint32_t arg3);

static const SelfvirtAttrSet selfvirt_attr_set[] = {
    [SELFVIRT_ATTR_MAC] = selfvirt_attr_mac,
    [SELFVIRT_ATTR_SIGNALS] = selfvirt_attr_signals,
    [SELFVIRT_ATTR_RATE] = selfvirt_attr_rate,
    [SELFVIRT_ATTR_WEIGHT] = selfvirt_attr_weight,
    [SELFVIRT_ATTR_QUEUES] = selfvirt_attr_queues,
    [SELFVIRT_ATTR_RX_CHAIN] = selfvirt_attr_rx_chain,
    [SELFVIRT_ATTR_SPOOF_CHECK] = selfvirt_attr_spoof_check,
    [SELFVIRT_ATTR_SIGNAL_GAP] = selfvirt_attr_signal_gap,
    [SELFVIRT_ATTR_RX_POSTED] = selfvirt_attr_rx_posted,
};

static uint32_t selfvirt_cmd_set(SelfvirtState *s)
{
    uint32_t *a = s->mbox.arg;
    uint32_t st;
    SelfvirtVif *vif = selfvirt_vif_arg(s, &st);

    if (!vif) {
        return st;
    }
    trace_selfvirt_vif_set(a[0], a[1], a[2], a[3]);
    if (a[1] >= ARRAY_SIZE(selfvirt_attr_set) || !selfvirt_attr_set[a[1]]) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "unknown attribute %u",
                                  a[1]);
    }
    return selfvirt_attr_set[a[1]](s, vif, a[2], a[3]);
}

static uint32_t selfvirt_cmd_stats(SelfvirtState *s)
{
    uint32_t st;
    SelfvirtVif *vif = selfvirt_vif_arg(s, &st);

    if (!vif) {
        return st;
    }
    for (unsigned i = 0; i < SELFVIRT_VSTAT_COUNT; i++) {
        s->mbox.res[i] = qatomic_read(&vif->stats[i]);
    }
    return SELFVIRT_ST_OK;
}

/* Whether the board halted the VIF's send queue, why, and on what. */
static uint32_t selfvirt_cmd_vif_status(SelfvirtState *s)
{
    uint32_t st;
    SelfvirtVif *vif = selfvirt_vif_arg(s, &st);
    uint32_t *r = s->mbox.res;

    if (!vif) {
        return st;
    }
    selfvirt_engines_pause(s);     /* the halt record is egress's */
    r[0] = vif->stopped ? SELFVIRT_VIF_HALTED : 0;
    r[1] = vif->halt.reason;
    r[2] = vif->halt.index;
    r[3] = le32_to_cpu(vif->halt.desc.buf);
    r[4] = le32_to_cpu(vif->halt.desc.len);
    r[5] = le16_to_cpu(vif->halt.desc.flags) |
           (uint32_t)le16_to_cpu(vif->halt.desc.mss) << 16;
    r[6] = le32_to_cpu(vif->halt.desc.reserved);
    selfvirt_engines_resume(s);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_cmd_set_mode(SelfvirtState *s)
{
    uint32_t mode = s->mbox.arg[0];

    if (mode > SELFVIRT_MODE_NIC || (s->mbox.arg[1] & ~1u)) {
        return selfvirt_mbox_fail(SELFVIRT_ST_BAD_ARG, "mode %u flags 0x%x",
                                  mode, s->mbox.arg[1]);
    }
    for (unsigned i = 0; i < s->num_vifs; i++) {
        if (s->vif[i].active && mode != s->sw.mode) {
            return selfvirt_mbox_fail(SELFVIRT_ST_WRONG_MODE, "destroy every "
                                      "VIF before switching modes");
        }
    }
    selfvirt_engines_pause(s);
    s->sw.mode = mode;
    s->sw.promisc = mode == SELFVIRT_MODE_NIC && (s->mbox.arg[1] & 1);
    trace_selfvirt_set_mode(s->sw.mode, s->sw.promisc);
    selfvirt_engines_resume(s);
    return SELFVIRT_ST_OK;
}

static uint32_t selfvirt_cmd_query(SelfvirtState *s)
{
    uint64_t active = 0;

    for (unsigned i = 0; i < s->num_vifs; i++) {
        active |= (uint64_t)s->vif[i].active << i;
    }
    s->mbox.res[0] = active;
    s->mbox.res[1] = active >> 32;
    s->mbox.res[2] = s->sw.mode | (s->sw.promisc ? SELFVIRT_QUERY_PROMISC : 0);
    return SELFVIRT_ST_OK;
}

/* The mailbox's registers as at power-on. */
void selfvirt_mbox_reset(SelfvirtState *s)
{
    memset(&s->mbox, 0, sizeof(s->mbox));
}

/* Run command @cmd; true for CMD_RESET, whose reset is the caller's. */
static bool selfvirt_mbox_run(SelfvirtState *s, uint32_t cmd)
{
    bool reset = false;
    uint32_t st;

    assert(bql_locked());     /* the XScale runs one command at a time */
    memset(s->mbox.res, 0, sizeof(s->mbox.res));
    switch (cmd) {
    case SELFVIRT_CMD_RESET:
        reset = true;
        st = SELFVIRT_ST_OK;
        break;
    case SELFVIRT_CMD_QUERY:
        st = selfvirt_cmd_query(s);
        break;
    case SELFVIRT_CMD_VIF_CREATE:
        st = selfvirt_cmd_create(s);
        break;
    case SELFVIRT_CMD_VIF_DESTROY:
        st = selfvirt_cmd_destroy(s);
        break;
    case SELFVIRT_CMD_VIF_SET:
        st = selfvirt_cmd_set(s);
        break;
    case SELFVIRT_CMD_VIF_STATS:
        st = selfvirt_cmd_stats(s);
        break;
    case SELFVIRT_CMD_SET_MODE:
        st = selfvirt_cmd_set_mode(s);
        break;
    case SELFVIRT_CMD_VIF_STATUS:
        st = selfvirt_cmd_vif_status(s);
        break;
    default:
        st = selfvirt_mbox_fail(SELFVIRT_ST_BAD_CMD, "unknown command %u",
                                cmd);
        break;
    }
    s->mbox.status = SELFVIRT_MBOX_STATUS_DONE | st;
    selfvirt_stat_inc(s, SELFVIRT_STAT_MBOX_CMDS);
    trace_selfvirt_mbox(cmd, st);
    return reset;
}

uint64_t selfvirt_mbox_reg_read(SelfvirtState *s, hwaddr addr)
{
    switch (addr) {
    case SELFVIRT_REG_MBOX_STATUS:
        return s->mbox.status;
    case SELFVIRT_REG_MBOX_ARG(0) ...
         SELFVIRT_REG_MBOX_ARG(SELFVIRT_MBOX_NARGS - 1):
        return s->mbox.arg[(addr - SELFVIRT_REG_MBOX_ARG(0)) / 4];
    case SELFVIRT_REG_MBOX_RES(0) ...
         SELFVIRT_REG_MBOX_RES(SELFVIRT_MBOX_NARGS - 1):
        return s->mbox.res[(addr - SELFVIRT_REG_MBOX_RES(0)) / 4];
    }
    return 0;     /* MBOX_CMD reads as zero */
}

/*
 * A write of a mailbox register.  Returns true when the command written
 * asks for the board's data-path reset (CMD_RESET), which the caller does
 * before the write completes: the mailbox does not reset the board.
 */
bool selfvirt_mbox_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case SELFVIRT_REG_MBOX_CMD:
        return selfvirt_mbox_run(s, val);
    case SELFVIRT_REG_MBOX_ARG(0) ...
         SELFVIRT_REG_MBOX_ARG(SELFVIRT_MBOX_NARGS - 1):
        s->mbox.arg[(addr - SELFVIRT_REG_MBOX_ARG(0)) / 4] = val;
        return false;
    default:
        g_assert_not_reached();     /* the CSR dispatch sends only these */
    }
}
