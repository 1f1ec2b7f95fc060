"""``model="tiny-random"``: a small random BERT and WordPiece tokenizer built in memory.

Tests and smoke runs need a real transformers encoder without downloads or a 90 MB load;
this one is built from a fixed seed (so its vectors, and its cache key, are the same in
every process) and tokenises any Latin text into letters and a few hundred common words.
Its position limit is deliberately small (64 tokens) so that truncation is easy to exercise.
"""

from __future__ import annotations

import string
from typing import Any

TINY_MAX_POSITIONS = 64
_WORD_LIST = (
    "the of and to in is was for on that with as by it at from his an be are has have had not but "
    "this which they their were its one been also who new more after first two year years said will "
    "people government market film music game team company would there other time over up out about "
    "into than most only game world player club election party minister sales growth bank phone "
    "software technology mobile users internet film award star show win match cup"
)
_WORDS = _WORD_LIST.split()


def tiny_vocab() -> list[str]:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = ["##" + c for c in string.ascii_lowercase + string.digits]
    words = sorted(set(_WORDS) - set(chars))
    return special + chars + pieces + words


def build_tiny_tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(tiny_vocab())}
    backend = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    backend.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=TINY_MAX_POSITIONS,
    )


def build_tiny_model() -> Any:
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=len(tiny_vocab()), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=TINY_MAX_POSITIONS, pad_token_id=0,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BertModel(config, add_pooling_layer=False)
    return model.eval().requires_grad_(False)
