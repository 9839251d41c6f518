"""The JDE-family track and per-frame bookkeeping, shared by ByteTrack and FairMOT's tracker.

Both descend from the same code (Zhongdao/Towards-Realtime-MOT -> FairMOT -> ByteTrack): the track
object :class:`STrack` (8-d Kalman, states new/tracked/lost/removed, activation on the second hit
except in the first frame) and the end-of-frame bookkeeping (:meth:`JDEStyleTracker._finish_frame`:
lost-track expiry, list merges by id, duplicate removal at IoU > 0.85, output of activated tracks).
"""

from __future__ import annotations

import numpy as np

from mot_bench.plugins import Tracker
from mot_bench.trackers.common.kalman import KalmanFilterXYAH
from mot_bench.trackers.common.matching import iou_distance, linear_assignment
from mot_bench.types import Detections, Frame, SeqInfo, Tracks


class TrackState:
    NEW = 0
    TRACKED = 1
    LOST = 2
    REMOVED = 3


def tlbr_to_tlwh64(tlbr: np.ndarray) -> np.ndarray:
    """As the official ``tlbr_to_tlwh``, in the precision the detector gave (float32 or float64), then float64."""
    tlwh = np.array(tlbr, copy=True)
    tlwh[:, 2:] -= tlwh[:, :2]
    return tlwh.astype(np.float64)


class STrack:
    """One track (or, before activation, one detection wrapped as a track)."""

    shared_kalman = KalmanFilterXYAH()

    def __init__(self, tlwh: np.ndarray, score: float) -> None:
        self._tlwh = np.asarray(tlwh, dtype=np.float64)
        self.kalman_filter: KalmanFilterXYAH | None = None
        self.mean: np.ndarray | None = None
        self.covariance: np.ndarray | None = None
        self.is_activated = False
        self.score = score
        self.tracklet_len = 0
        self.track_id = 0
        self.state = TrackState.NEW
        self.frame_id = 0
        self.start_frame = 0

    @property
    def end_frame(self) -> int:
        return self.frame_id

    # -- geometry (as the official properties) --------------------------------------------------
    @property
    def tlwh(self) -> np.ndarray:
        if self.mean is None:
            return self._tlwh.copy()
        ret = self.mean[:4].copy()
        ret[2] *= ret[3]
        ret[:2] -= ret[2:] / 2
        return ret

    @property
    def tlbr(self) -> np.ndarray:
        ret = self.tlwh.copy()
        ret[2:] += ret[:2]
        return ret

    @staticmethod
    def tlwh_to_xyah(tlwh: np.ndarray) -> np.ndarray:
        ret = np.asarray(tlwh).copy()
        ret[:2] += ret[2:] / 2
        ret[2] /= ret[3]
        return ret

    def to_xyah(self) -> np.ndarray:
        return self.tlwh_to_xyah(self.tlwh)

    @staticmethod
    def means_to_tlwh(means: np.ndarray) -> np.ndarray:
        """``tlwh`` of (N, 4+) Kalman means at once; a subclass with another state layout overrides it."""
        return xyah_to_tlwh(means)

    def measurement(self, tlwh: np.ndarray) -> np.ndarray:
        """A box as the Kalman filter measures it: (x, y, a, h) here; subclasses with another filter override."""
        return self.tlwh_to_xyah(tlwh)

    # -- life cycle -----------------------------------------------------------------------------
    @staticmethod
    def multi_predict(stracks: list[STrack]) -> tuple[np.ndarray, np.ndarray] | None:
        """Vectorised predict; tracks not in the tracked state get their height velocity zeroed.
        Returns the predicted (N, 8) means and (N, 8, 8) covariances (the tracks hold their rows)."""
        if not stracks:
            return None
        multi_mean = np.array([st.mean for st in stracks])
        multi_cov = np.array([st.covariance for st in stracks])
        not_tracked = [i for i, st in enumerate(stracks) if st.state != TrackState.TRACKED]
        if not_tracked:
            multi_mean[not_tracked, 7] = 0
        multi_mean, multi_cov = STrack.shared_kalman.multi_predict(multi_mean, multi_cov)
        for st, mean, cov in zip(stracks, multi_mean, multi_cov, strict=True):
            st.mean, st.covariance = mean, cov
        return multi_mean, multi_cov

    def activate(self, kalman_filter: KalmanFilterXYAH, frame_id: int, track_id: int) -> None:
        """Start a track; it is confirmed at once only in the sequence's first frame."""
        self.kalman_filter = kalman_filter
        self.track_id = track_id
        self.mean, self.covariance = kalman_filter.initiate(self.measurement(self._tlwh))
        self.tracklet_len = 0
        self.state = TrackState.TRACKED
        if frame_id == 1:
            self.is_activated = True
        self.frame_id = frame_id
        self.start_frame = frame_id

    def re_activate(self, new_track: STrack, frame_id: int) -> None:
        """A lost track found again (ByteTrack takes the new detection's score)."""
        self.mean, self.covariance = self.kalman_filter.update(
            self.mean, self.covariance, self.measurement(new_track.tlwh)
        )
        self.tracklet_len = 0
        self.state = TrackState.TRACKED
        self.is_activated = True
        self.frame_id = frame_id
        self.score = new_track.score

    def update(self, new_track: STrack, frame_id: int) -> None:
        """A tracked (or unconfirmed) track matched in this frame."""
        self.frame_id = frame_id
        self.tracklet_len += 1
        self.mean, self.covariance = self.kalman_filter.update(
            self.mean, self.covariance, self.measurement(new_track.tlwh)
        )
        self.state = TrackState.TRACKED
        self.is_activated = True
        self.score = new_track.score

    def mark_lost(self) -> None:
        self.state = TrackState.LOST

    def mark_removed(self) -> None:
        self.state = TrackState.REMOVED



class AppearanceSTrack(STrack):
    """A JDE-family track with an appearance state (FairMOT, BoT-SORT with re-ID): the detection's feature
    (``curr_feat``) and an exponential moving average of them (``smooth_feat``), weight ``alpha``."""

    alpha = 0.9
    curr_feat: np.ndarray | None = None
    smooth_feat: np.ndarray | None = None

    def update_features(self, feat: np.ndarray) -> None:
        """As the official ``update_features``, in place: ``feat`` is normalised; the first feature *is*
        the smoothed one, so it ends up normalised twice; later ones enter the EMA, renormalised after
        each step."""
        feat /= np.linalg.norm(feat)
        self.curr_feat = feat
        if self.smooth_feat is None:
            self.smooth_feat = feat
        else:
            self.smooth_feat = self.alpha * self.smooth_feat + (1 - self.alpha) * feat
        self.smooth_feat /= np.linalg.norm(self.smooth_feat)


def xyah_to_tlwh(xyah: np.ndarray) -> np.ndarray:
    """``STrack.tlwh`` of (N, 4+) Kalman means at once, with the same arithmetic."""
    ret = np.array(xyah[:, :4], dtype=np.float64)
    ret[:, 2] *= ret[:, 3]
    ret[:, :2] -= ret[:, 2:] / 2
    return ret


def tlwh_to_tlbr(tlwh: np.ndarray) -> np.ndarray:
    """``STrack.tlbr`` from (N, 4) tlwh boxes: x2 = w + x, y2 = h + y (copies)."""
    ret = np.array(tlwh, dtype=np.float64)
    ret[:, 2:] += ret[:, :2]
    return ret


def xyah_to_tlbr(xyah: np.ndarray) -> np.ndarray:
    """``STrack.tlbr`` of (N, 4+) Kalman means at once."""
    ret = xyah_to_tlwh(xyah)
    ret[:, 2:] += ret[:, :2]
    return ret


def tlwh_to_xyah(tlwh: np.ndarray) -> np.ndarray:
    """``STrack.tlwh_to_xyah`` of (N, 4) boxes at once."""
    ret = np.array(tlwh, dtype=np.float64)
    ret[:, :2] += ret[:, 2:] / 2
    ret[:, 2] /= ret[:, 3]
    return ret


def tlbrs(tracks: list[STrack]) -> np.ndarray:
    """(N, 4) ``tlbr`` of the tracks, computed for all tracks at once."""
    if not tracks:
        return np.zeros((0, 4))
    try:
        means = np.array([t.mean[:4] for t in tracks])
    except TypeError:  # detections wrapped as tracks have no mean
        return np.asarray([t.tlbr for t in tracks], dtype=np.float64).reshape(-1, 4)
    ret = type(tracks[0]).means_to_tlwh(means)
    ret[:, 2:] += ret[:, :2]
    return ret


def multi_update_tracks(
    kf: KalmanFilterXYAH,
    tracks: list[STrack],
    xyah: np.ndarray,
    scores: np.ndarray,
    frame_id: int,
    means: np.ndarray | None = None,
    covs: np.ndarray | None = None,
) -> None:
    """``update`` (tracked or unconfirmed tracks) or ``re_activate`` (any other state) of every
    track with the matching row of ``xyah`` and ``scores``, one Kalman update for all of them.
    ``means``/``covs``: the tracks' current states already stacked (else read from the tracks)."""
    if not tracks:
        return
    if means is None or covs is None:
        means = np.array([t.mean for t in tracks])
        covs = np.array([t.covariance for t in tracks])
    means, covs = kf.multi_update(means, covs, xyah)
    for t, mean, cov, score in zip(tracks, means, covs, scores, strict=True):
        t.mean, t.covariance = mean, cov
        if t.state == TrackState.TRACKED:
            t.tracklet_len += 1
        else:
            t.tracklet_len = 0
        t.state = TrackState.TRACKED
        t.is_activated = True
        t.frame_id = frame_id
        t.score = score


def track_iou_distance(atracks: list[STrack], btracks: list[STrack]) -> np.ndarray:
    return iou_distance(tlbrs(atracks), tlbrs(btracks))


def joint_stracks(tlista: list[STrack], tlistb: list[STrack]) -> list[STrack]:
    """Union by track id, keeping the order of ``tlista`` then the new ones of ``tlistb``."""
    exists = {t.track_id for t in tlista}
    res = list(tlista)
    for t in tlistb:
        if t.track_id not in exists:
            exists.add(t.track_id)
            res.append(t)
    return res


def sub_stracks(tlista: list[STrack], removed_ids: set[int]) -> list[STrack]:
    """``tlista`` minus the tracks whose id is in ``removed_ids`` (the official code keys by id)."""
    out: dict[int, STrack] = {}
    for t in tlista:
        out[t.track_id] = t
    return [t for tid, t in out.items() if tid not in removed_ids]


def remove_duplicate_stracks(stracksa: list[STrack], stracksb: list[STrack]) -> tuple[list[STrack], list[STrack]]:
    """A tracked and a lost track overlapping with IoU distance < 0.15: drop the younger one."""
    if not stracksa or not stracksb:
        return list(stracksa), list(stracksb)
    boxes = tlbrs(stracksa + stracksb)
    pdist = iou_distance(boxes[: len(stracksa)], boxes[len(stracksa) :])
    pairs = np.where(pdist < 0.15)
    if not len(pairs[0]):
        return list(stracksa), list(stracksb)
    dupa, dupb = set(), set()
    for p, q in zip(*pairs, strict=True):
        timep = stracksa[p].frame_id - stracksa[p].start_frame
        timeq = stracksb[q].frame_id - stracksb[q].start_frame
        if timep > timeq:
            dupb.add(q)
        else:
            dupa.add(p)
    resa = [t for i, t in enumerate(stracksa) if i not in dupa]
    resb = [t for i, t in enumerate(stracksb) if i not in dupb]
    return resa, resb


class JDEStyleTracker(Tracker):
    """State shared by ByteTrack and FairMOT's JDETracker: track lists, id counter, frame counter."""

    track_buffer: int
    frame_rate: float | None
    min_box_area: float
    aspect_ratio_thresh: float | None

    def reset(self, seq: SeqInfo | None) -> None:
        """Fresh lists, ids from 1, lost-track buffer scaled by the sequence frame rate."""
        self._reset_state(seq)

    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        # The official trackers of this family take a network's float32 output (YOLOX, FairMOT): boxes read
        # from a file (float64) are rounded to float32 first, so thresholds and Kalman inputs see what they see.
        return self._report(self.step(detections.as_float32()))

    def step(self, detections: Detections) -> list[STrack]:
        """One official update; returns the activated tracks before the output filter."""
        raise NotImplementedError

    def _reset_state(self, seq: SeqInfo | None) -> None:
        self.tracked_stracks: list[STrack] = []
        self.lost_stracks: list[STrack] = []
        self.removed_ids: set[int] = set()
        self.frame_id = 0
        self._next_id = 0
        fps = self.frame_rate if self.frame_rate is not None else (seq.fps if seq is not None else 30.0)
        self.buffer_size = int(fps / 30.0 * self.track_buffer)
        self.max_time_lost = self.buffer_size
        self.kalman_filter = KalmanFilterXYAH()

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _split_tracked(self) -> tuple[list[STrack], list[STrack]]:
        unconfirmed = [t for t in self.tracked_stracks if not t.is_activated]
        confirmed = [t for t in self.tracked_stracks if t.is_activated]
        return unconfirmed, confirmed

    def _apply_matches(self, tracks, dets, matches, activated: list[STrack], refind: list[STrack]) -> None:
        """Matched tracked tracks take the detection; matched lost tracks are re-activated."""
        for it, idet in matches:
            track, det = tracks[it], dets[idet]
            if track.state == TrackState.TRACKED:
                track.update(det, self.frame_id)
                activated.append(track)
            else:
                track.re_activate(det, self.frame_id)
                refind.append(track)

    @staticmethod
    def _mark_lost(tracks: list[STrack], unmatched, lost: list[STrack]) -> None:
        for it in unmatched:
            track = tracks[it]
            if track.state != TrackState.LOST:
                track.mark_lost()
                lost.append(track)

    def _match_unconfirmed(self, unconfirmed: list[STrack], dets: list[STrack], dists: np.ndarray,
                           activated: list[STrack], removed: list[STrack]):
        """Tracks seen once are confirmed by an IoU match (0.7) or removed; returns unmatched detections."""
        matches, u_unconfirmed, u_det = linear_assignment(dists, thresh=0.7)
        for it, idet in matches:
            unconfirmed[it].update(dets[idet], self.frame_id)
            activated.append(unconfirmed[it])
        for it in u_unconfirmed:
            unconfirmed[it].mark_removed()
            removed.append(unconfirmed[it])
        return u_det

    def _start_new(self, dets: list[STrack], unmatched, activated: list[STrack]) -> None:
        """New tracks from unmatched detections scoring at least ``det_thresh``."""
        for inew in unmatched:
            track = dets[inew]
            if track.score < self.det_thresh:
                continue
            track.activate(self.kalman_filter, self.frame_id, self._new_id())
            activated.append(track)

    def _finish_frame(
        self,
        activated: list[STrack],
        refind: list[STrack],
        lost: list[STrack],
        removed: list[STrack],
    ) -> list[STrack]:
        """Step 5 of the official update: expire lost tracks, merge the lists, drop duplicates."""
        for track in self.lost_stracks:
            if self.frame_id - track.end_frame > self.max_time_lost:
                track.mark_removed()
                removed.append(track)
        self.tracked_stracks = [t for t in self.tracked_stracks if t.state == TrackState.TRACKED]
        self.tracked_stracks = joint_stracks(self.tracked_stracks, activated)
        self.tracked_stracks = joint_stracks(self.tracked_stracks, refind)
        self.lost_stracks = sub_stracks(self.lost_stracks, {t.track_id for t in self.tracked_stracks})
        self.lost_stracks.extend(lost)
        # As the official code: subtract the removed tracks of *previous* frames only, so a track
        # expired in this frame stays in the lost list (and the next frame's pool) one more frame.
        self.lost_stracks = sub_stracks(self.lost_stracks, self.removed_ids)
        self.removed_ids.update(t.track_id for t in removed)
        self.tracked_stracks, self.lost_stracks = remove_duplicate_stracks(self.tracked_stracks, self.lost_stracks)
        return [t for t in self.tracked_stracks if t.is_activated]

    def _report(self, stracks: list[STrack]) -> Tracks:
        """The demo/evaluator output filter: area > min_box_area and not w/h > aspect_ratio_thresh."""
        if not stracks:
            return Tracks.empty()
        tlwh = type(stracks[0]).means_to_tlwh(np.array([t.mean[:4] for t in stracks]))
        keep = tlwh[:, 2] * tlwh[:, 3] > self.min_box_area
        if self.aspect_ratio_thresh is not None:
            keep &= ~(tlwh[:, 2] / tlwh[:, 3] > self.aspect_ratio_thresh)
        rows = keep.nonzero()[0]
        return Tracks(
            tlwh_to_tlbr(tlwh[rows]),
            np.array([stracks[i].track_id for i in rows], dtype=np.int64),
            np.array([float(stracks[i].score) for i in rows], dtype=np.float64),
        )


