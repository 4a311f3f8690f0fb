//! The flow table: a hash map from key to slot, flows in a slab, and an intrusive list of
//! slots from least to most recently seen, which makes idle expiry and eviction O(1).

// Slot numbers come from this table only (never from packet data); an out-of-range slot
// is a bug in the table, which must fail loudly rather than corrupt another flow.
#![allow(clippy::indexing_slicing)]

use super::{Flow, FlowKey};
use hashbrown::HashMap;

const NIL: u32 = u32::MAX;

/// Flows are kept in one of these lists, each ordered from least to most recently seen, so
/// that each list's head is the next to time out under that list's own timeout.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lane {
    Open = 0,
    /// TCP connections that have closed (FIN both ways, or RST).
    Closed = 1,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

pub struct FlowTable {
    map: HashMap<FlowKey, u32, ahash::RandomState>,
    slots: Vec<Flow>,
    free: Vec<u32>,
    lanes: [List; 2],
    next_id: u64,
    /// How much each new flow's id exceeds the last: 1, or the number of tables whose ids
    /// interleave (see [`FlowTable::number_ids`]).
    id_step: u64,
    /// Counts every change of a lane's head (see [`Self::head_changes`]).
    head_changes: u64,
}

impl Default for FlowTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowTable {
    pub fn new() -> FlowTable {
        FlowTable {
            map: HashMap::with_hasher(ahash::RandomState::new()),
            slots: Vec::new(),
            free: Vec::new(),
            lanes: [EMPTY; 2],
            next_id: 0,
            id_step: 1,
            head_changes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// A number that changes whenever the oldest flow of a lane does: while it stays the
    /// same, the next timeout can only have moved later (a flow's last-seen time only grows).
    pub fn head_changes(&self) -> u64 {
        self.head_changes
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<u32> {
        self.map.get(key).copied()
    }

    #[inline]
    pub fn get(&self, slot: u32) -> &Flow {
        &self.slots[slot as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Flow {
        &mut self.slots[slot as usize]
    }

    /// The least recently seen flow of a lane.
    #[inline]
    pub fn oldest(&self, lane: Lane) -> Option<u32> {
        let head = self.lanes[lane as usize].head;
        (head != NIL).then_some(head)
    }

    /// Moves a flow to another lane, as its most recently seen flow.
    pub fn set_lane(&mut self, slot: u32, lane: Lane) {
        if self.slots[slot as usize].lane != lane {
            self.unlink(slot);
            self.slots[slot as usize].lane = lane;
            self.link_tail(slot);
        }
    }

    /// Makes the next flow id at least `id` (ids only grow).
    /// Numbers new flows `first`, `first + step`, `first + 2 * step`, ...: `step` tables
    /// numbering from 0 to `step - 1` never give two flows the same id.
    pub fn number_ids(&mut self, first: u64, step: u64) {
        self.next_id = first;
        self.id_step = step.max(1);
    }

    pub fn raise_next_id(&mut self, id: u64) {
        self.next_id = self.next_id.max(id);
    }

    /// Adds a new flow as the most recently seen; it gets the next flow id.
    pub fn insert(&mut self, key: FlowKey, client_is_lo: bool, ts_ns: i64) -> u32 {
        let flow = Flow {
            key,
            id: self.next_id,
            client_is_lo,
            first_seen_ns: ts_ns,
            last_seen_ns: ts_ns,
            idle_since_ns: ts_ns,
            packets: [0; 2],
            bytes: [0; 2],
            tcp_flags: [0; 2],
            fin_seen: [false; 2],
            rst_seen: false,
            client_isn: None,
            lane: Lane::Open,
            class: Default::default(),
            dpi: None,
            findings: None,
            inspecting: false,
            prev: NIL,
            next: NIL,
        };
        self.next_id += self.id_step;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = flow;
                s
            }
            None => {
                self.slots.push(flow);
                (self.slots.len() - 1) as u32
            }
        };
        self.map.insert(key, slot);
        self.link_tail(slot);
        slot
    }

    /// Marks a flow as the most recently seen.
    #[inline]
    pub fn touch(&mut self, slot: u32) {
        if self.lanes[self.slots[slot as usize].lane as usize].tail != slot {
            self.unlink(slot);
            self.link_tail(slot);
        }
    }

    /// Takes a flow out of the table.
    pub fn remove(&mut self, slot: u32) -> Flow {
        self.unlink(slot);
        let mut flow = self.slots[slot as usize].take();
        flow.dpi = self.slots[slot as usize].dpi.take();
        flow.findings = self.slots[slot as usize].findings.take();
        self.map.remove(&flow.key);
        self.free.push(slot);
        flow
    }

    /// Takes every flow out, in the order they were created. The slots become the list
    /// (no second copy of the flows) and the key map is freed at once: at the end of a long
    /// input this is the moment memory peaks.
    pub fn drain(&mut self) -> Vec<Flow> {
        let mut flows = std::mem::take(&mut self.slots);
        let mut free = std::mem::take(&mut self.free);
        free.sort_unstable();
        let mut index = 0u32;
        flows.retain(|_| {
            let held = free.binary_search(&index).is_err();
            index += 1;
            held
        });
        flows.sort_unstable_by_key(|f| f.id);
        for f in &mut flows {
            f.prev = NIL;
            f.next = NIL;
        }
        self.map = HashMap::with_hasher(ahash::RandomState::new());
        self.lanes = [EMPTY; 2];
        flows
    }

    fn link_tail(&mut self, slot: u32) {
        let lane = self.slots[slot as usize].lane as usize;
        let old_tail = self.lanes[lane].tail;
        {
            let f = &mut self.slots[slot as usize];
            f.prev = old_tail;
            f.next = NIL;
        }
        if old_tail != NIL {
            self.slots[old_tail as usize].next = slot;
        } else {
            self.lanes[lane].head = slot;
            self.head_changes += 1;
        }
        self.lanes[lane].tail = slot;
    }

    fn unlink(&mut self, slot: u32) {
        let (prev, next, lane) = {
            let f = &self.slots[slot as usize];
            (f.prev, f.next, f.lane as usize)
        };
        if prev != NIL {
            self.slots[prev as usize].next = next;
        } else {
            self.lanes[lane].head = next;
            self.head_changes += 1;
        }
        if next != NIL {
            self.slots[next as usize].prev = prev;
        } else {
            self.lanes[lane].tail = prev;
        }
    }
}
