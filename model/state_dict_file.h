// Reading a PyTorch state dict (name -> tensor) from a `.pth` file, as users download them: torchvision's
// vgg19-dcbb9e9d.pth, pytorch-fid's pt_inception-2015-12-05-6726825d.pth.
//
// torch::pickle_load cannot read these: LibTorch 1.13's unpickler turns the collections.OrderedDict that
// nn.Module.state_dict() returns into None (so a real torch.save'd state dict fails with "Expected
// GenericDict but got None"), and it does not read the legacy (pre-1.6, non-zip) format that files
// released before 2020 have. This reader understands both layouts Python's torch.save writes:
//   zip     (PyTorch >= 1.6, and torch::pickle_save): <dir>/data.pkl + <dir>/data/<storage key>
//   legacy  (_use_new_zipfile_serialization=False, files saved before 1.6): five concatenated parts,
//           the magic number, the protocol version (1001), system info, the object's pickle, the list
//           of storage keys, then for each key an 8-byte element count and the raw little-endian data
// and the subset of Python's pickle protocol (0-5) a state dict uses: dicts (OrderedDict or plain),
// tensors rebuilt by torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter over
// typed storages (Float, Double, Half, BFloat16, Long, Int, Short, Char, Byte, Bool), tuples, lists,
// strings, numbers. Any other Python object is refused with its name: nothing is executed.
//
// Sizes from the file are never trusted: every tensor view is checked against its storage's element
// count and every storage against the bytes the file holds.
#pragma once

#include <map>
#include <string>

#include <ATen/core/Tensor.h>

namespace facesr {

// The tensors of the top-level dict in `path` (entries whose value is not a tensor are left out), as
// contiguous CPU tensors that own their memory. Throws WeightsError (model/safetensors.h) naming the
// file and what is wrong; `expected` (for example "pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
// is said in the message when the file is not a state dict at all.
std::map<std::string, at::Tensor> read_state_dict_file(const std::string& path, const std::string& expected);

}  // namespace facesr
